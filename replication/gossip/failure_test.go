package gossip

import (
	"testing"
	"time"
)

// TestCrashDetected kills an agent without Leave and measures, in every
// other node's view, when it turned suspect and dead. The bounds come from
// the config: the first suspicion comes within one probe cycle (each node
// probes each other node once per members-1 intervals) plus the probe
// itself; the death within the minimum suspicion timeout after that
// (three survivors confirm each other's suspicion), plus a second for
// gossip and scheduling.
func TestCrashDetected(t *testing.T) {
	nodes := startFederation(t, 2, nil)
	cfg := nodes[0].cfg
	members := len(nodes)
	suspectBound := time.Duration(members)*cfg.ProbeInterval + 500*time.Millisecond
	minSuspicion := time.Duration(cfg.SuspicionMult) * cfg.ProbeInterval // log10(4) < 1
	deadBound := suspectBound + minSuspicion + time.Second

	victim, survivors := nodes[3], nodes[:3]
	crash := time.Now()
	if err := victim.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, deadBound+time.Second, "every survivor sees ap-1 dead", func() bool {
		for _, n := range survivors {
			if stateOf(n, "ap-1") != StateDead {
				return false
			}
		}
		return true
	})

	firstSuspect, firstDead := time.Duration(-1), time.Duration(-1)
	for _, n := range survivors {
		d, _ := n.rec.first("ap-1", StateDead, crash)
		sinceCrash := d.At.Sub(crash)
		line := "dead after " + sinceCrash.Round(time.Millisecond).String()
		if s, ok := n.rec.first("ap-1", StateSuspect, crash); ok {
			ts := s.At.Sub(crash)
			line = "suspect after " + ts.Round(time.Millisecond).String() + ", " + line
			if firstSuspect < 0 || ts < firstSuspect {
				firstSuspect = ts
			}
		}
		if firstDead < 0 || sinceCrash < firstDead {
			firstDead = sinceCrash
		}
		t.Logf("%s: %s (declared here %v, confirmations %d, suspected here %v, corroborated %v)",
			n.Name(), line, d.DeclaredHere, d.Confirmations, d.SuspectedHere, d.Corroborated())
		if sinceCrash > deadBound {
			t.Errorf("%s saw ap-1 dead after %v, bound %v", n.Name(), sinceCrash, deadBound)
		}
		if got := n.ClusterState("ap-1"); got != StateDead {
			t.Errorf("%s: ClusterState(ap-1) = %v, want dead", n.Name(), got)
		}
		if d.To == StateDead && d.From == StateLeft {
			t.Errorf("%s: a crash recorded as a departure", n.Name())
		}
	}
	if firstSuspect < 0 {
		t.Fatal("no survivor saw ap-1 suspect before dead")
	}
	t.Logf("crash of ap-1 (4 nodes, probe interval %v): first suspect %v (bound %v), first dead %v (bound %v)",
		cfg.ProbeInterval, firstSuspect.Round(time.Millisecond), suspectBound, firstDead.Round(time.Millisecond), deadBound)
	if firstSuspect > suspectBound {
		t.Errorf("first suspicion after %v, bound %v", firstSuspect, suspectBound)
	}
	if got := gauge(t, nodes[0], "fedstate_gossip_members", "state", "dead"); got != 1 {
		t.Errorf("hub: fedstate_gossip_members{state=dead} = %v, want 1", got)
	}
}

// TestRejoinAfterCrash restarts a crashed agent under the same name and
// address: the others see it alive again, with its new payload.
func TestRejoinAfterCrash(t *testing.T) {
	nodes := startFederation(t, 3, nil)
	hub, victim := nodes[0], nodes[3]
	if err := victim.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the hub sees ap-1 dead", func() bool { return stateOf(hub, "ap-1") == StateDead })

	cfg := victim.cfg
	cfg.BindPort = portOf(t, victim.Addr())
	cfg.Payload = []byte("session-ap-1-restarted")
	restarted := start(t, cfg)
	if restarted.Addr() != victim.Addr() {
		t.Fatalf("restarted at %s, was %s", restarted.Addr(), victim.Addr())
	}
	back := time.Now()
	join(t, restarted, hub)
	waitAllAlive(t, append(nodes[:3:3], restarted), 10*time.Second)
	t.Logf("ap-1 alive again everywhere %v after its Join", time.Since(back).Round(time.Millisecond))
	for _, n := range nodes[:3] {
		// A node that had already forgotten the dead member (memberlist
		// drops it after a while, sooner on a loaded machine) sees a join.
		if n.rec.count("ap-1", KindRejoined, back)+n.rec.count("ap-1", KindJoined, back) == 0 {
			t.Errorf("%s: no rejoined (or joined) transition for ap-1", n.Name())
		}
		if got := string(member(t, n, "ap-1").Payload); got != "session-ap-1-restarted" {
			t.Errorf("%s: ap-1's payload %q, want the restarted one's", n.Name(), got)
		}
	}
	if got := hub.ClusterState("ap-1"); got != StateAlive {
		t.Errorf("hub: ClusterState(ap-1) = %v, want alive", got)
	}
}

// TestLeaveIsNotACrash checks that a node that leaves is recorded Left.
func TestLeaveIsNotACrash(t *testing.T) {
	nodes := startFederation(t, 4, nil)
	hub, leaver := nodes[0], nodes[2]
	if err := leaver.Leave(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := leaver.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "every node sees us-1 left", func() bool {
		for _, n := range []*testNode{nodes[0], nodes[1], nodes[3]} {
			if stateOf(n, "us-1") != StateLeft {
				return false
			}
		}
		return true
	})
	if got := hub.ClusterState("us-1"); got != StateLeft {
		t.Errorf("hub: ClusterState(us-1) = %v, want left", got)
	}
	if hub.rec.count("us-1", KindDied, time.Time{}) > 0 {
		t.Error("hub recorded a death for a node that left")
	}
}
