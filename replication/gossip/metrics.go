package gossip

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one pool's collectors, created in New and registered on
// Config.Registerer. A nil *metrics records nothing.
type metrics struct {
	membersByState *prometheus.GaugeVec
	transitions    *prometheus.CounterVec
	dropped        prometheus.Counter
	probeRTT       prometheus.Histogram
	health         prometheus.GaugeFunc
}

func newMetrics(health func() int) *metrics {
	m := &metrics{
		membersByState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fedstate_gossip_members",
			Help: "Members of the gossip pool in this node's view, by state (alive, suspect, dead, left).",
		}, []string{"state"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_gossip_transitions_total",
			Help: "Member transitions seen by this node, by kind (joined, suspected, refuted, died, left, rejoined, updated).",
		}, []string{"kind"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedstate_gossip_transitions_dropped_total",
			Help: "Transitions dropped from a full subscription buffer.",
		}),
		probeRTT: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fedstate_gossip_probe_rtt_seconds",
			Help: "Round trip time of this node's successful direct UDP probes.",
			// 1 ms (loopback, same zone) to ~1 s (beyond any ProbeTimeout).
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 11),
		}),
		health: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fedstate_gossip_health_score",
			Help: "This node's memberlist health score (Lifeguard awareness): 0 is healthy, higher means this node misses acks and nacks itself.",
		}, func() float64 { return float64(health()) }),
	}
	for s := StateAlive; s <= StateLeft; s++ {
		m.membersByState.WithLabelValues(s.String())
	}
	for _, k := range allKinds {
		m.transitions.WithLabelValues(k.String())
	}
	return m
}

// register registers every collector on r, or none.
func (m *metrics) register(r prometheus.Registerer) error {
	for i, c := range m.collectors() {
		if err := r.Register(c); err != nil {
			for _, done := range m.collectors()[:i] {
				r.Unregister(done)
			}
			return fmt.Errorf("gossip: register metrics: %w", err)
		}
	}
	return nil
}

// unregister removes every collector from r.
func (m *metrics) unregister(r prometheus.Registerer) {
	for _, c := range m.collectors() {
		r.Unregister(c)
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.membersByState, m.transitions, m.dropped, m.probeRTT, m.health}
}

func (m *metrics) transition(k Kind) {
	if m != nil {
		m.transitions.WithLabelValues(k.String()).Inc()
	}
}

func (m *metrics) members(n [StateLeft + 1]int) {
	if m == nil {
		return
	}
	for s := StateAlive; s <= StateLeft; s++ {
		m.membersByState.WithLabelValues(s.String()).Set(float64(n[s]))
	}
}

func (m *metrics) rtt(d time.Duration) {
	if m != nil {
		m.probeRTT.Observe(d.Seconds())
	}
}

// dropped counts one transition dropped from a subscription.
func (m *metrics) droppedOne() {
	if m != nil {
		m.dropped.Inc()
	}
}
