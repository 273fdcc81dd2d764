package gossip

import (
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// TestGarbageOnGossipPort sends random and truncated UDP packets and TCP
// streams to the hub's and an agent's gossip port: nobody crashes,
// nobody is suspected or evicted, and the pool keeps working.
func TestGarbageOnGossipPort(t *testing.T) {
	nodes := startFederation(t, 6, nil)
	hub := nodes[0]
	t0 := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	payloads := [][]byte{{}, {0}, {1}, {0xff}, make([]byte, 1400), make([]byte, 65000)}
	for range 200 {
		b := make([]byte, rng.IntN(2000))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		payloads = append(payloads, b)
	}
	// Every message type byte, followed by junk.
	for typ := range 256 {
		payloads = append(payloads, []byte{byte(typ), 0x81, 0xa4, 'N', 'o', 'd', 'e'})
	}
	// Streams that announce huge lengths after the first message type
	// bytes (an encrypted message's length is 4 bytes): the largest, and
	// memberlist's limit of 20 MiB with a few bytes behind it, held open.
	var huge [][]byte
	for typ := range 16 {
		huge = append(huge, []byte{byte(typ), 0xff, 0xff, 0xff, 0xff},
			append([]byte{byte(typ), 0x01, 0x40, 0x00, 0x00}, make([]byte, 100)...))
	}

	for _, target := range []*testNode{hub, nodes[1]} {
		udp, err := net.Dial("udp", target.Addr())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range payloads {
			if _, err := udp.Write(p); err != nil {
				t.Fatalf("UDP write to %s: %v", target.Name(), err)
			}
		}
		if err := udp.Close(); err != nil {
			t.Fatal(err)
		}
		for i, p := range append(payloads[:40:40], huge...) {
			c, err := net.Dial("tcp", target.Addr())
			if err != nil {
				t.Fatalf("TCP dial %s: %v", target.Name(), err)
			}
			// Ignore write errors: the node may close the stream early.
			_, _ = c.Write(p)
			if i%2 == 0 {
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				// Leave half of them open and silent until the test ends.
				t.Cleanup(func() { _ = c.Close() })
			}
		}
	}

	// Let three probe rounds pass: everyone stays alive and keeps probing.
	rtts := histogramCount(t, hub, "fedstate_gossip_probe_rtt_seconds")
	deadline := time.Now().Add(3 * hub.cfg.ProbeInterval)
	waitFor(t, 5*hub.cfg.ProbeInterval, "three probe rounds after the garbage", func() bool {
		return time.Now().After(deadline)
	})
	for _, n := range nodes {
		for _, m := range n.Members() {
			if m.State != StateAlive {
				t.Errorf("%s sees %s %v after garbage", n.Name(), m.Name, m.State)
			}
		}
		for _, other := range nodes {
			if c := n.rec.count(other.Name(), KindSuspected, t0) + n.rec.count(other.Name(), KindDied, t0); c > 0 {
				t.Errorf("%s suspected or buried %s after garbage", n.Name(), other.Name())
			}
		}
		if len(n.Members()) != len(nodes) {
			t.Errorf("%s lists %d members, want %d", n.Name(), len(n.Members()), len(nodes))
		}
	}
	if got := histogramCount(t, hub, "fedstate_gossip_probe_rtt_seconds"); got <= rtts {
		t.Errorf("the hub's probes stopped: RTT samples %d then %d", rtts, got)
	}
}
