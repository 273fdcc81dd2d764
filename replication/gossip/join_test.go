package gossip

import (
	"context"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestEncryptedPoolJoins(t *testing.T) {
	nodes := startFederation(t, 1, nil)
	hub := nodes[0]

	for _, n := range nodes {
		for _, m := range n.Members() {
			want := Member{Name: m.Name, Role: RoleAgent, Cluster: m.Name, Region: regions[m.Name], Payload: []byte("session-" + m.Name)}
			if m.Name == "hub" {
				want = Member{Name: "hub", Role: RoleHub, Region: "eu-west"}
			}
			if m.Role != want.Role || m.Cluster != want.Cluster || m.Region != want.Region || string(m.Payload) != string(want.Payload) {
				t.Errorf("%s sees %+v, want metadata of %+v", n.Name(), m, want)
			}
			if m.Self != (m.Name == n.Name()) {
				t.Errorf("%s sees %s with Self %v", n.Name(), m.Name, m.Self)
			}
		}
	}
	for _, c := range []string{"eu-1", "us-1", "ap-1"} {
		if got := hub.ClusterState(c); got != StateAlive {
			t.Errorf("hub: ClusterState(%s) = %v, want alive", c, got)
		}
	}
	if got := hub.ClusterState("hub"); got != StateUnknown {
		t.Errorf("hub: ClusterState of a cluster without agents = %v, want unknown", got)
	}
	if got := gauge(t, hub, "fedstate_gossip_members", "state", "alive"); got != 4 {
		t.Errorf("fedstate_gossip_members{state=alive} = %v, want 4", got)
	}
	// The hub probes each agent once per 3 s; wait for a direct ack's RTT.
	waitFor(t, 5*time.Second, "a probe RTT observed", func() bool {
		return histogramCount(t, hub, "fedstate_gossip_probe_rtt_seconds") > 0
	})

	t.Run("payload update", func(t *testing.T) {
		eu := nodes[1]
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := eu.UpdatePayload(ctx, []byte("session-2")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the hub sees eu-1's new payload", func() bool {
			return string(member(t, hub, "eu-1").Payload) == "session-2"
		})
		if hub.rec.count("eu-1", KindUpdated, time.Time{}) == 0 {
			t.Error("no updated transition for eu-1 on the hub")
		}
		if err := eu.UpdatePayload(ctx, make([]byte, MaxMetaSize)); err == nil || !strings.Contains(err.Error(), "larger than 512") {
			t.Errorf("UpdatePayload of %d bytes = %v, want ErrMetaTooLarge", MaxMetaSize, err)
		}
	})

	t.Run("wrong key cannot join", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			change func(*Config)
		}{
			{name: "intruder", change: func(c *Config) { c.Keyring = [][]byte{testKey(9)} }},
			{name: "plaintext", change: func(c *Config) { c.Keyring, c.Insecure = nil, true }},
		} {
			cfg := testConfig(tc.name, RoleAgent, "127.0.1.9")
			cfg.Cluster = "eu-1"
			tc.change(&cfg)
			n := start(t, cfg)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			got, err := n.Join(ctx, hub.Addr(), nodes[1].Addr())
			cancel()
			if err == nil {
				t.Errorf("%s joined %d nodes without the pool's key", tc.name, got)
			}
			if ms := n.Members(); len(ms) != 1 {
				t.Errorf("%s lists %+v, want only itself", tc.name, ms)
			}
		}
		// Let a few probe and gossip rounds pass with both running: nobody
		// may list them.
		deadline := time.Now().Add(2 * hub.cfg.ProbeInterval)
		waitFor(t, 3*hub.cfg.ProbeInterval, "two probe intervals", func() bool {
			for _, n := range nodes {
				if len(n.Members()) != len(nodes) || n.rec.count("intruder", KindJoined, time.Time{})+n.rec.count("plaintext", KindJoined, time.Time{}) > 0 {
					t.Fatalf("%s lists a node without the key: %+v", n.Name(), n.Members())
				}
			}
			return time.Now().After(deadline)
		})
	})
}

func TestShutdownUnregistersAndCloses(t *testing.T) {
	n := start(t, testConfig("hub", RoleHub, "127.0.7.1"))
	sub := n.Subscribe(1)
	if families, err := n.reg.Gather(); err != nil || len(families) == 0 {
		t.Fatalf("Gather = %d families, %v", len(families), err)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-sub.C(); ok {
		t.Fatal("subscription open after Shutdown")
	}
	if families, err := n.reg.Gather(); err != nil || len(families) != 0 {
		t.Fatalf("after Shutdown: %d metric families, %v; want none", len(families), err)
	}
	if err := n.Leave(t.Context()); err != ErrShutdown {
		t.Fatalf("Leave after Shutdown = %v, want ErrShutdown", err)
	}
	if _, ok := <-n.Subscribe(1).C(); ok {
		t.Fatal("Subscribe after Shutdown: open subscription")
	}
}

// gauge returns the value of a gauge of n's registry with the label.
func gauge(t *testing.T, n *testNode, name, label, value string) float64 {
	t.Helper()
	for _, m := range family(t, n, name).GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("%s{%s=%q} not found", name, label, value)
	return 0
}

// histogramCount returns the sample count of an unlabelled histogram.
func histogramCount(t *testing.T, n *testNode, name string) uint64 {
	t.Helper()
	return family(t, n, name).GetMetric()[0].GetHistogram().GetSampleCount()
}

func family(t *testing.T, n *testNode, name string) *dto.MetricFamily {
	t.Helper()
	families, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f
		}
	}
	t.Fatalf("metric %s not registered", name)
	return nil
}
