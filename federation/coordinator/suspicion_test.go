package coordinator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/federation/coordinator"
	"github.com/fedstate/fedstate/federation/members"
	"github.com/fedstate/fedstate/replication/gossip"
	"github.com/fedstate/fedstate/replication/gossip/gossiptest"
)

// TestPrimaryClusterSuspected: the hub is in a real gossip pool with one
// node per member's agent. The primary's agent is cut from every other
// gossip node but keeps its etcd session and the primary's lease: gossip
// declares it dead, corroborated, and the coordinator records
// PrimaryClusterSuspected on the service, yet promotes nobody while the
// lease is held.
func TestPrimaryClusterSuspected(t *testing.T) {
	e := newEnv(t)
	f := startFleet(t, e, []uint64{0, 0, 0})
	netw := gossiptest.NewNetwork()
	hubPool := gossipNode(t, netw, "hub-a", gossip.RoleHub, "")
	for _, c := range clusters {
		p := gossipNode(t, netw, "agent-"+c.name, gossip.RoleAgent, c.name)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := p.Join(ctx, hubPool.Addr())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.setup = func(mgr ctrl.Manager, c *coordinator.Coordinator) {
		m := &members.AgentMonitor{Client: mgr.GetClient(), Sessions: e.store, Gossip: hubPool,
			Recorder: mgr.GetEventRecorder("fedstate-hub"), Interval: 200 * time.Millisecond}
		if err := m.SetupWithManager(mgr); err != nil {
			t.Fatal(err)
		}
		c.Suspicions = m
	}
	e.startHub(t, "hub-a", nil)
	e.createService(spec{})
	waitStable(t, e, 1, 0)
	eventually(t, timeout, "the hub sees every agent alive in gossip", func() error {
		for _, c := range clusters {
			if s := hubPool.ClusterState(c.name); s != gossip.StateAlive {
				return fmt.Errorf("%s is %v", c.name, s)
			}
		}
		return nil
	})

	cut := time.Now()
	netw.Isolate("agent-eu-1")
	ev := findEvent(t, e, "PrimaryClusterSuspected")
	t.Logf("PrimaryClusterSuspected %v after the gossip cut: %s", time.Since(cut).Round(time.Millisecond), ev.Note)
	if ev.Type != "Warning" {
		t.Errorf("event type %s, want Warning", ev.Type)
	}
	consistently(t, 2*e.leaseTTL, "no promotion on gossip while the lease is held", func() error {
		if snap := e.snapshot(); snap.Epoch != 1 || snap.Primary == nil || snap.Primary.Replica != 0 {
			return fmt.Errorf("epoch %d primary %+v", snap.Epoch, snap.Primary)
		}
		return nil
	})
	f.noSplitBrain()
}

// gossipNode starts a gossip node on loopback on netw, shut down with the
// test.
func gossipNode(t *testing.T, netw *gossiptest.Network, name string, role gossip.Role, cluster string) *gossip.Pool {
	t.Helper()
	cfg := gossip.DefaultConfig(name)
	cfg.Role, cfg.Cluster, cfg.BindAddr, cfg.BindPort = role, cluster, "127.0.0.1", 0
	cfg.Insecure, cfg.Logger, cfg.WrapTransport = true, logr.Discard(), netw.Wrapper(name)
	cfg.TCPTimeout = 2 * time.Second
	p, err := gossip.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}
