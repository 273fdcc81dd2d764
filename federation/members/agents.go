package members

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/gossip"
)

// AgentSessions lists the agents' live sessions in the federation etcd;
// *coord.Store is the one to use.
type AgentSessions interface {
	// Agents returns the agents whose session is alive, by name, and the
	// revision they were read at. It blocks for one etcd request, bounded
	// by ctx and the store's request timeout; safe for concurrent use.
	Agents(ctx context.Context) (map[string]coord.AgentInfo, int64, error)
}

// GossipView is the hub's node of the gossip pool; *gossip.Pool is the
// one to use. Neither method blocks; both are safe for concurrent use.
type GossipView interface {
	// Members returns the node's view of every member.
	Members() []gossip.Member
	// Subscribe returns the transitions of that view from now on.
	Subscribe(buffer int) *gossip.Subscription
}

// DefaultAgentInterval is how often AgentMonitor reads the agents'
// sessions when its Interval is zero: one small etcd range read a second
// shows an ended session within a second of its lease's expiry (5 s by
// default), and the hub's gossip view refreshes as often.
const DefaultAgentInterval = time.Second

// transitionBuffer is the gossip subscription's buffer: room for every
// agent of a large federation changing at once.
const transitionBuffer = 512

// AgentMonitor writes the AgentAlive condition of every MemberCluster,
// from the agents' sessions in the federation etcd (Sessions) and the
// hub's view of the gossip pool (Gossip, optional); the v1alpha1 reason
// constants and docs/registry.md give the rules. It patches that one
// condition under optimistic locking, as the registry does its
// conditions, so neither overwrites the other; it records an event on
// each change of the condition's status or reason and keeps the
// fedstate_members_agent_* metrics. Nothing acts on the condition: it is
// for operators.
//
// It runs on every hub replica, following the gossip transitions from the
// start (a death's corroboration is told only in its transition), and
// writes once the replica is elected. Set the exported fields, then call
// SetupWithManager.
type AgentMonitor struct {
	// Client lists MemberClusters (the manager's cached client) and
	// patches their status.
	Client client.Client
	// APIReader reads a MemberCluster from the API server before a write;
	// SetupWithManager defaults it to the manager's.
	APIReader client.Reader
	// Sessions lists the agents' sessions.
	Sessions AgentSessions
	// Gossip is the hub's gossip node; nil when the hub is not in the pool.
	Gossip GossipView
	// Recorder records events on MemberClusters.
	Recorder events.EventRecorder
	// Interval is how often the sessions are read and every condition
	// compared with what it should be; zero is DefaultAgentInterval.
	Interval time.Duration

	elected <-chan struct{}

	mu       sync.Mutex
	verdicts map[string]gossipVerdict
}

// SetupWithManager checks the monitor's fields and adds it to mgr.
func (m *AgentMonitor) SetupWithManager(mgr ctrl.Manager) error {
	var errs []error
	if m.Client == nil {
		errs = append(errs, errors.New("AgentMonitor: Client is nil"))
	}
	if m.Sessions == nil {
		errs = append(errs, errors.New("AgentMonitor: Sessions is nil"))
	}
	if m.Recorder == nil {
		errs = append(errs, errors.New("AgentMonitor: Recorder is nil"))
	}
	if m.Interval < 0 {
		errs = append(errs, fmt.Errorf("AgentMonitor: Interval %s is negative", m.Interval))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if m.APIReader == nil {
		m.APIReader = mgr.GetAPIReader()
	}
	if m.Interval == 0 {
		m.Interval = DefaultAgentInterval
	}
	m.elected = mgr.Elected()
	if err := mgr.Add(m); err != nil {
		return fmt.Errorf("add the agent monitor to the manager: %w", err)
	}
	return nil
}

// NeedLeaderElection is false: the monitor follows the gossip transitions
// on every replica and writes only once its manager is elected.
func (m *AgentMonitor) NeedLeaderElection() bool { return false }

// ClusterSuspected reports whether the hub's gossip view declares every
// agent of cluster dead with other members' corroboration, as of the
// monitor's last pass, with a note saying so. It is false on a replica
// that is not elected. It does not block and is safe for concurrent use.
func (m *AgentMonitor) ClusterSuspected(cluster string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.verdicts[cluster].suspected()
}

// Start follows the gossip transitions and, once elected, writes every
// MemberCluster's AgentAlive condition every Interval and on every
// transition, until ctx ends. It implements manager.Runnable.
func (m *AgentMonitor) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("agents")
	ctx = ctrl.LoggerInto(ctx, log)
	p := &agentTracker{m: m, deaths: map[string]bool{}, published: map[string]bool{}}
	var trs <-chan gossip.Transition
	if m.Gossip != nil {
		sub := m.Gossip.Subscribe(transitionBuffer)
		defer sub.Close()
		trs = sub.C()
	}
	tick := time.NewTicker(m.Interval)
	defer tick.Stop()
	elected, leading := m.elected, false
	defer p.forgetAll()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-elected:
			elected, leading = nil, true
		case <-tick.C:
		case tr, ok := <-trs:
			if !ok { // the pool shut down
				trs = nil
				continue
			}
			p.record(tr)
			for drained := false; !drained; { // a burst makes one pass
				select {
				case tr, ok := <-trs:
					if !ok {
						trs, drained = nil, true
						break
					}
					p.record(tr)
				default:
					drained = true
				}
			}
		}
		if leading {
			p.run(ctx)
		}
	}
}

// agentTracker is the monitor's state between passes; only Start's goroutine
// uses it.
type agentTracker struct {
	m *AgentMonitor
	// deaths holds, for each member the hub's view saw die, whether the
	// death was corroborated.
	deaths map[string]bool
	// published are the clusters whose metrics are set.
	published map[string]bool
	// failing is set while the sessions cannot be read, so that the
	// failure is logged once.
	failing bool
}

// record notes a gossip transition.
func (p *agentTracker) record(tr gossip.Transition) {
	switch tr.To {
	case gossip.StateDead:
		p.deaths[tr.Member.Name] = tr.Corroborated()
	case gossip.StateAlive, gossip.StateLeft:
		delete(p.deaths, tr.Member.Name)
	}
}

// run brings every MemberCluster's AgentAlive condition up to date. A
// failure is logged; the next pass tries again.
func (p *agentTracker) run(ctx context.Context) {
	log := ctrl.LoggerFrom(ctx)
	m := p.m
	rctx, cancel := context.WithTimeout(ctx, hubTimeout)
	agents, _, err := m.Sessions.Agents(rctx)
	cancel()
	if err != nil {
		if !p.failing {
			log.Error(err, "Cannot read the agents' sessions; AgentAlive conditions stay as they are")
		}
		p.failing = true
		return
	}
	p.failing = false
	var list v1alpha1.MemberClusterList
	lctx, cancel := context.WithTimeout(ctx, hubTimeout)
	err = m.Client.List(lctx, &list)
	cancel()
	if err != nil {
		log.Error(err, "Cannot list MemberClusters")
		return
	}
	views := p.views(agents)
	verdicts := map[string]gossipVerdict{}
	seen := map[string]bool{}
	for i := range list.Items {
		mc := &list.Items[i]
		if !mc.DeletionTimestamp.IsZero() {
			continue
		}
		v := views[mc.Name]
		v.inPool = m.Gossip != nil
		verdicts[mc.Name] = v.verdict()
		seen[mc.Name] = true
		cond := agentAlive(mc.Name, v)
		p.publishMetrics(mc.Name, cond, v)
		if err := m.write(ctx, mc, cond); err != nil {
			log.Error(err, "Cannot write the AgentAlive condition", "member", mc.Name)
		}
	}
	for name := range p.published {
		if !seen[name] {
			forgetAgentMetrics(name)
			delete(p.published, name)
		}
	}
	m.mu.Lock()
	m.verdicts = verdicts
	m.mu.Unlock()
}

// views gathers each cluster's sessions and gossip members.
func (p *agentTracker) views(agents map[string]coord.AgentInfo) map[string]agentView {
	views := map[string]agentView{}
	for _, name := range slices.Sorted(maps.Keys(agents)) {
		c := agents[name].Cluster
		v := views[c]
		v.sessions = append(v.sessions, name)
		views[c] = v
	}
	if p.m.Gossip == nil {
		return views
	}
	present := map[string]bool{}
	for _, mem := range p.m.Gossip.Members() { // sorted by name
		present[mem.Name] = true
		if mem.Role != gossip.RoleAgent || mem.Cluster == "" {
			continue
		}
		v := views[mem.Cluster]
		v.agents = append(v.agents, gossipAgent{name: mem.Name, state: mem.State,
			directProbeFailed: mem.DirectProbeFailed, corroborated: p.deaths[mem.Name]})
		views[mem.Cluster] = v
	}
	for name := range p.deaths {
		if !present[name] { // forgotten by the pool
			delete(p.deaths, name)
		}
	}
	return views
}

// publishMetrics sets the cluster's agent metrics.
func (p *agentTracker) publishMetrics(cluster string, cond metav1.Condition, v agentView) {
	p.published[cluster] = true
	agentAliveGauge.WithLabelValues(cluster).Set(boolGauge(cond.Status == metav1.ConditionTrue))
	agentSessionGauge.WithLabelValues(cluster).Set(boolGauge(len(v.sessions) > 0))
	if !v.inPool {
		return
	}
	state := v.verdict().state
	for _, s := range gossipStates {
		agentGossipGauge.WithLabelValues(cluster, s.String()).Set(boolGauge(s == state))
	}
}

// forgetAll drops every series the monitor published.
func (p *agentTracker) forgetAll() {
	for name := range p.published {
		forgetAgentMetrics(name)
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
