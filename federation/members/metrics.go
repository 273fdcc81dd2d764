package members

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/fedstate/fedstate/replication/gossip"
)

// Metrics of the registry, on controller-runtime's registry (served by the
// manager's metrics endpoint). The cluster label is bounded by the number
// of MemberClusters; a member's series go when it is disconnected.
var (
	reachableGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fedstate_members_reachable",
		Help: "1 when the probe verdict says the member's API server answers, else 0.",
	}, []string{"cluster"})
	probeDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "fedstate_members_probe_duration_seconds",
		Help: "Duration of /readyz probes of member API servers, failed ones included.",
		// 1 ms (loopback) to about 4 s (past the default 3 s timeout).
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
	})
	probeFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedstate_members_probe_failures_total",
		Help: "Failed /readyz probes of a member: no answer within the timeout, or an answer other than 200.",
	}, []string{"cluster"})
	agentAliveGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fedstate_members_agent_alive",
		Help: "1 when the member's AgentAlive condition is True, else 0.",
	}, []string{"cluster"})
	agentSessionGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fedstate_members_agent_session",
		Help: "1 when an agent of the member holds a live session in the federation etcd, else 0.",
	}, []string{"cluster"})
	agentGossipGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fedstate_members_agent_gossip_state",
		Help: "1 for the state (alive, suspect, dead, left, unknown) of the member's agents in the hub's gossip view, 0 for the others.",
	}, []string{"cluster", "state"})
)

// gossipStates are the values of fedstate_members_agent_gossip_state's
// state label.
var gossipStates = []gossip.State{gossip.StateAlive, gossip.StateSuspect, gossip.StateDead, gossip.StateLeft, gossip.StateUnknown}

func init() {
	metrics.Registry.MustRegister(reachableGauge, probeDuration, probeFailures, agentAliveGauge, agentSessionGauge, agentGossipGauge)
}

// forgetMetrics drops the series of a disconnected member.
func forgetMetrics(name string) {
	reachableGauge.DeleteLabelValues(name)
	probeFailures.DeleteLabelValues(name)
}

// forgetAgentMetrics drops the agent series of a member that is gone.
func forgetAgentMetrics(name string) {
	agentAliveGauge.DeleteLabelValues(name)
	agentSessionGauge.DeleteLabelValues(name)
	agentGossipGauge.DeletePartialMatch(prometheus.Labels{"cluster": name})
}
