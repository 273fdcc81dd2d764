package gossip

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"
)

// TestKeyRotation rotates the pool's key in the documented three stages
// while it runs: nobody is suspected, and afterwards a node holding only
// the old key is refused.
func TestKeyRotation(t *testing.T) {
	nodes := startFederation(t, 8, nil)
	oldKey, newKey := testKey(1), testKey(2)
	t0 := time.Now()

	stages := []struct {
		name  string
		apply func(n *testNode) error
		want  [][]byte // every node's keyring after the stage
	}{
		{name: "install", apply: func(n *testNode) error { return n.AddKey(newKey) }, want: [][]byte{oldKey, newKey}},
		{name: "switch primary", apply: func(n *testNode) error { return n.UseKey(newKey) }, want: [][]byte{newKey, oldKey}},
		{name: "remove old", apply: func(n *testNode) error { return n.RemoveKey(oldKey) }, want: [][]byte{newKey}},
	}
	for _, st := range stages {
		for i, n := range nodes {
			var err error
			if i == 0 {
				// The hub follows its keyring file instead.
				err = n.ApplyKeyring(st.want)
			} else {
				err = st.apply(n)
			}
			if err != nil {
				t.Fatalf("%s: %s: %v", st.name, n.Name(), err)
			}
			if got := n.Keys(); !slices.EqualFunc(got[:1], st.want[:1], bytes.Equal) || len(got) != len(st.want) {
				t.Fatalf("%s: %s holds %d keys (primary %x), want %d (primary %x)", st.name, n.Name(), len(got), got[0][:1], len(st.want), st.want[0][:1])
			}
		}
		// Traffic under the new keyring: every node completes a fresh
		// direct probe before the next stage starts.
		waitProbes(t, nodes, 1, st.name)
	}
	// A whole probe cycle under the final keyring: every node probed
	// every other.
	waitProbes(t, nodes, uint64(len(nodes)-1), "the rotation")
	for _, n := range nodes {
		for _, other := range nodes {
			if c := n.rec.count(other.Name(), KindSuspected, t0) + n.rec.count(other.Name(), KindDied, t0); c > 0 {
				t.Errorf("%s suspected %s during the rotation", n.Name(), other.Name())
			}
		}
	}
	waitAllAlive(t, nodes, time.Second)
	if err := nodes[1].RemoveKey(newKey); err == nil {
		t.Error("RemoveKey of the primary key succeeded")
	}

	stale := testConfig("stale", RoleAgent, "127.0.8.9")
	stale.Cluster = "eu-1"
	s := start(t, stale)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Join(ctx, nodes[0].Addr()); err == nil {
		t.Error("a node with only the retired key joined")
	}
}

// waitProbes waits until every node has observed at least probes more
// direct probe round trips than when called.
func waitProbes(t *testing.T, nodes []*testNode, probes uint64, stage string) {
	t.Helper()
	before := make([]uint64, len(nodes))
	for i, n := range nodes {
		before[i] = histogramCount(t, n, "fedstate_gossip_probe_rtt_seconds")
	}
	waitFor(t, 10*time.Second, "fresh probes after "+stage, func() bool {
		for i, n := range nodes {
			if histogramCount(t, n, "fedstate_gossip_probe_rtt_seconds") < before[i]+probes {
				return false
			}
		}
		return true
	})
}

func TestKeyMethodsInsecure(t *testing.T) {
	cfg := testConfig("hub", RoleHub, "127.0.8.10")
	cfg.Keyring, cfg.Insecure = nil, true
	n := start(t, cfg)
	if err := n.AddKey(testKey(3)); err != ErrInsecure {
		t.Errorf("AddKey on an insecure pool = %v, want ErrInsecure", err)
	}
	if n.Keys() != nil {
		t.Errorf("Keys on an insecure pool = %x, want nil", n.Keys())
	}
}
