package gossip

import (
	"testing"
	"time"

	"github.com/fedstate/fedstate/replication/gossip/gossiptest"
)

// TestPartition cuts the link between the hub and eu-1 only: the other
// agents vouch for eu-1 through indirect probes and nobody declares it
// dead, though the hub notices it cannot reach eu-1 directly. Then eu-1 is
// cut from everyone: the others declare it dead, corroborated, while
// eu-1's own verdicts on them rest on its view alone. Healed, it comes
// back.
func TestPartition(t *testing.T) {
	netw := gossiptest.NewNetwork()
	nodes := startFederation(t, 5, func(c *Config) {
		c.WrapTransport = netw.Wrapper(c.Name)
		// A dial over a cut link hangs until TCPTimeout, as over a real
		// network; shorten it so that the reconnect attempts stuck during
		// the partition end soon after the heal.
		c.TCPTimeout = 2 * time.Second
	})
	hub, eu := nodes[0], nodes[1]
	cfg := hub.cfg

	// One link cut. Each node probes each other once per 3 s; hold the cut
	// for 6 probe intervals, so the hub probes eu-1 twice.
	cut := time.Now()
	netw.Cut("hub", "eu-1")
	hold := 6 * cfg.ProbeInterval
	sawDirectFail := false
	waitFor(t, hold+time.Second, "the one-link partition held for 6 probe intervals", func() bool {
		for _, n := range nodes {
			for _, name := range []string{"hub", "eu-1"} {
				if n.rec.count(name, KindDied, cut) > 0 {
					t.Fatalf("%s declared %s dead though only the hub <-> eu-1 link is cut", n.Name(), name)
				}
			}
		}
		if m := member(t, hub, "eu-1"); m.DirectProbeFailed && m.State == StateAlive {
			sawDirectFail = true
		}
		return time.Since(cut) >= hold
	})
	if !sawDirectFail {
		t.Error("the hub never reported eu-1 alive but not directly reachable")
	}
	if got := hub.ClusterState("eu-1"); got != StateAlive && got != StateSuspect {
		t.Errorf("hub: ClusterState(eu-1) = %v during a one-link partition", got)
	}
	t.Logf("one link cut for %v: hub saw eu-1 suspected %d times, refuted %d times; %d packets dropped",
		hold, hub.rec.count("eu-1", KindSuspected, cut), hub.rec.count("eu-1", KindRefuted, cut), netw.Dropped())

	// eu-1 cut from everyone.
	isolated := time.Now()
	netw.Isolate("eu-1")
	waitFor(t, 15*time.Second, "hub, us-1 and ap-1 see eu-1 dead", func() bool {
		for _, n := range []*testNode{hub, nodes[2], nodes[3]} {
			if stateOf(n, "eu-1") != StateDead {
				return false
			}
		}
		return true
	})
	for _, n := range []*testNode{hub, nodes[2], nodes[3]} {
		d, _ := n.rec.first("eu-1", StateDead, isolated)
		t.Logf("%s: eu-1 dead %v after isolation (declared here %v, confirmations %d, suspected here %v)",
			n.Name(), d.At.Sub(isolated).Round(time.Millisecond), d.DeclaredHere, d.Confirmations, d.SuspectedHere)
		if !d.Corroborated() {
			t.Errorf("%s: death of eu-1 not corroborated though three nodes lost it: %+v", n.Name(), d)
		}
	}
	if got := hub.ClusterState("eu-1"); got != StateDead {
		t.Errorf("hub: ClusterState(eu-1) = %v, want dead", got)
	}
	// eu-1 suspects everyone and gets no confirmation: its timers run to
	// the maximum, and its verdicts are its own.
	waitFor(t, 20*time.Second, "eu-1 declares another node dead", func() bool {
		for _, name := range []string{"hub", "us-1", "ap-1"} {
			if stateOf(eu, name) == StateDead {
				return true
			}
		}
		return false
	})
	for _, name := range []string{"hub", "us-1", "ap-1"} {
		if d, ok := eu.rec.first(name, StateDead, isolated); ok {
			t.Logf("eu-1 (isolated): %s dead %v after isolation (corroborated %v, health score %d)",
				name, d.At.Sub(isolated).Round(time.Millisecond), d.Corroborated(), d.HealthScore)
			if d.Corroborated() {
				t.Errorf("isolated eu-1's verdict on %s corroborated: %+v", name, d)
			}
		}
	}

	// Healed: the reconnect loops bring eu-1 back.
	healed := time.Now()
	netw.Heal()
	waitAllAlive(t, nodes, 15*time.Second)
	t.Logf("healed: every node sees every node alive %v later", time.Since(healed).Round(time.Millisecond))
	if hub.rec.count("eu-1", KindRejoined, healed) == 0 {
		t.Error("hub: no rejoined transition for eu-1 after the heal")
	}
}
