package members_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/members"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/gossip"
	"github.com/fedstate/fedstate/replication/gossip/gossiptest"
)

// agentFed is a test's federation of agents: a real embedded etcd, the
// hub's gossip node and one gossip node per member, all on one
// fault-injecting Network, and the agents' etcd sessions.
type agentFed struct {
	t     *testing.T
	store *coord.Store
	netw  *gossiptest.Network
	hub   *gossip.Pool
	pools map[string]*gossip.Pool
	mu    sync.Mutex
	sess  map[string]*coord.Agent
}

// agentName is the name of a member's agent, in etcd and in gossip.
func agentName(member string) string { return "agent-" + member }

// startAgentFed starts the etcd, the hub's gossip node and every member's
// gossip node, joined to the hub's; no agent has a session yet.
func startAgentFed(t *testing.T) *agentFed {
	t.Helper()
	ecfg := coord.DefaultConfig()
	ecfg.EmbedDataDir, ecfg.EmbedClientURL, ecfg.EmbedPeerURL = t.TempDir(), "http://127.0.0.1:0", "http://127.0.0.1:0"
	ecfg.LeaseTTL, ecfg.RenewInterval = 3*time.Second, 200*time.Millisecond
	ecfg.Logger = zap.NewNop()
	store, err := coord.Connect(t.Context(), ecfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &agentFed{t: t, store: store, netw: gossiptest.NewNetwork(), pools: map[string]*gossip.Pool{}, sess: map[string]*coord.Agent{}}
	t.Cleanup(func() {
		f.mu.Lock()
		for _, a := range f.sess {
			a.Abandon()
		}
		f.mu.Unlock()
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	f.hub = f.node("hub-0", gossip.RoleHub, "")
	for _, m := range memberNames {
		p := f.node(agentName(m), gossip.RoleAgent, m)
		f.pools[m] = p
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := p.Join(ctx, f.hub.Addr())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "the hub sees every agent alive in gossip", func(context.Context) error {
		for _, m := range memberNames {
			if s := f.hub.ClusterState(m); s != gossip.StateAlive {
				return fmt.Errorf("%s is %v", m, s)
			}
		}
		return nil
	})
	return f
}

// node starts a gossip node on loopback, shut down at the end of the test.
func (f *agentFed) node(name string, role gossip.Role, cluster string) *gossip.Pool {
	cfg := gossip.DefaultConfig(name)
	cfg.Role, cfg.Cluster, cfg.BindAddr, cfg.BindPort = role, cluster, "127.0.0.1", 0
	cfg.Insecure, cfg.Logger = true, logr.Discard()
	cfg.WrapTransport = f.netw.Wrapper(name)
	// Dials over a cut link hang until TCPTimeout; keep them short so
	// that a healed link is used again soon.
	cfg.TCPTimeout, cfg.ReconnectInterval = 2*time.Second, time.Second
	p, err := gossip.New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// startSession opens the member's agent session in etcd.
func (f *agentFed) startSession(member string) {
	f.t.Helper()
	a, err := f.store.StartAgent(f.t.Context(), agentName(member), member)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.sess[member] = a
	f.mu.Unlock()
}

// crash stops the member's agent as a crash would: its gossip node goes
// silent without a leave, and its session is no longer renewed.
func (f *agentFed) crash(member string) {
	f.t.Helper()
	if err := f.pools[member].Shutdown(); err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sess[member].Abandon()
	delete(f.sess, member)
}

// startMonitor runs an AgentMonitor on its own manager beside the
// package's registry, which keeps writing Ready and Reachable, until the
// test ends.
func (f *agentFed) startMonitor() *members.AgentMonitor {
	f.t.Helper()
	rc, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		f.t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(rc, ctrl.Options{Scheme: scheme, Logger: logr.Discard(),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		f.t.Fatal(err)
	}
	m := &members.AgentMonitor{Client: mgr.GetClient(), Sessions: f.store, Gossip: f.hub,
		Recorder: mgr.GetEventRecorder("fedstate-members"), Interval: 200 * time.Millisecond}
	if err := m.SetupWithManager(mgr); err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	f.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.t.Error(err)
		}
	})
	return m
}

// readAgentAlive reads the member's AgentAlive condition.
func readAgentAlive(ctx context.Context, name string) (*metav1.Condition, error) {
	mc, err := memberCluster(ctx, name)
	if err != nil {
		return nil, err
	}
	c := meta.FindStatusCondition(mc.Status.Conditions, v1alpha1.MemberAgentAlive)
	if c == nil {
		return nil, fmt.Errorf("%s has no AgentAlive condition", name)
	}
	return c, nil
}

// TestAgentAliveFollowsAgents runs the AgentAlive monitor against a real hub API
// server, a real etcd and real gossip nodes: the condition follows an
// agent's session, a cut between the hub and one agent that the other
// agents still reach never makes it False, and a crashed agent is
// reported dead by gossip, corroborated. The registry writes Ready and
// Reachable throughout; neither writer loses the other's conditions.
func TestAgentAliveFollowsAgents(t *testing.T) {
	f := startAgentFed(t)
	const eu = "eu-1"
	for _, m := range memberNames {
		if m != eu {
			f.startSession(m)
		}
	}
	start := time.Now()
	mon := f.startMonitor()

	// No session: False, though gossip reaches the agent.
	waitCondition(t, eu, v1alpha1.MemberAgentAlive, metav1.ConditionFalse, v1alpha1.ReasonNoSession, 30*time.Second)
	f.startSession(eu)
	for _, m := range memberNames {
		waitCondition(t, m, v1alpha1.MemberAgentAlive, metav1.ConditionTrue, v1alpha1.ReasonSessionAlive, 30*time.Second)
	}
	t.Logf("AgentAlive True %v after the monitor started", time.Since(start).Round(time.Millisecond))
	waitEvent(t, eu, "Normal", v1alpha1.ReasonSessionAlive, start)
	if v, ok := metricValue(t, "fedstate_members_agent_alive", eu); !ok || v != 1 {
		t.Errorf("fedstate_members_agent_alive{cluster=%q} = %v (exists %t), want 1", eu, v, ok)
	}

	// The hub <-> eu-1 link cut: the other agents vouch for eu-1.
	cut := time.Now()
	f.netw.Cut("hub-0", agentName(eu))
	seen := map[string]bool{}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for ; time.Since(cut) < 8*time.Second; <-tick.C {
		err := within(t, func(ctx context.Context) error {
			c, err := readAgentAlive(ctx, eu)
			if err != nil {
				return err
			}
			if c.Status == metav1.ConditionFalse {
				return fmt.Errorf("AgentAlive False while only the hub <-> agent link is cut: %s: %s", c.Reason, c.Message)
			}
			seen[c.Reason] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, suspected := mon.ClusterSuspected(eu); suspected {
			t.Fatal("ClusterSuspected(eu-1) while only the hub <-> agent link is cut")
		}
	}
	t.Logf("one link cut for 8s: reasons seen %v", seen)
	if !seen[v1alpha1.ReasonHubCannotProbe] {
		t.Error("AgentAlive never said HubCannotProbe while the hub could not probe the agent")
	}
	f.netw.Heal()
	waitCondition(t, eu, v1alpha1.MemberAgentAlive, metav1.ConditionTrue, v1alpha1.ReasonSessionAlive, 30*time.Second)

	// eu-1's agent crashes: gossip declares it dead, corroborated.
	crashed := time.Now()
	f.crash(eu)
	waitCondition(t, eu, v1alpha1.MemberAgentAlive, metav1.ConditionFalse, v1alpha1.ReasonGossipDead, 30*time.Second)
	t.Logf("AgentAlive False/GossipDead %v after the crash", time.Since(crashed).Round(time.Millisecond))
	waitEvent(t, eu, "Warning", v1alpha1.ReasonGossipDead, crashed)
	if note, ok := mon.ClusterSuspected(eu); !ok {
		t.Error("ClusterSuspected(eu-1) = false after a corroborated death")
	} else {
		t.Logf("ClusterSuspected(eu-1): %s", note)
	}
	if v, ok := metricValue(t, "fedstate_members_agent_alive", eu); !ok || v != 0 {
		t.Errorf("fedstate_members_agent_alive{cluster=%q} = %v (exists %t), want 0", eu, v, ok)
	}
	for _, m := range memberNames {
		if m != eu {
			waitCondition(t, m, v1alpha1.MemberAgentAlive, metav1.ConditionTrue, v1alpha1.ReasonSessionAlive, time.Second)
		}
	}

	// The registry refreshes lastProbeTime every 30 s: once it wrote after
	// the monitor did, both writers' conditions are there.
	eventually(t, time.Minute, "the registry's conditions beside AgentAlive after a registry write", func(ctx context.Context) error {
		mc, err := memberCluster(ctx, eu)
		if err != nil {
			return err
		}
		if mc.Status.LastProbeTime == nil || mc.Status.LastProbeTime.Time.Before(crashed.Add(time.Second)) {
			return fmt.Errorf("no registry write since the crash (lastProbeTime %v)", mc.Status.LastProbeTime)
		}
		if err := hasCondition(mc, v1alpha1.MemberAgentAlive, metav1.ConditionFalse, v1alpha1.ReasonGossipDead); err != nil {
			return err
		}
		return hasCondition(mc, v1alpha1.MemberReachable, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded)
	})
}
