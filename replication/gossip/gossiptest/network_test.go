package gossiptest

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// pair starts two loopback NetTransports wrapped on one Network.
func pair(t *testing.T) (*Network, *Transport, *Transport, string, string) {
	t.Helper()
	netw := NewNetwork()
	var ts [2]*Transport
	var addrs [2]string
	for i, name := range []string{"a", "b"} {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{"127.0.9.1"}, BindPort: 0})
		if err != nil {
			t.Fatal(err)
		}
		ts[i] = netw.Wrap(name, nt)
		ip, port, err := ts[i].FinalAdvertiseAddr("", nt.GetAutoBindPort())
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = (&net.UDPAddr{IP: ip, Port: port}).String()
		t.Cleanup(func() {
			if err := ts[i].Shutdown(); err != nil {
				t.Error(err)
			}
		})
	}
	return netw, ts[0], ts[1], addrs[0], addrs[1]
}

// received reports whether b gets a packet from a within timeout.
func received(t *testing.T, b *Transport, timeout time.Duration) bool {
	t.Helper()
	select {
	case p := <-b.PacketCh():
		if string(p.Buf) != "ping" {
			t.Fatalf("received %q", p.Buf)
		}
		return true
	case <-time.After(timeout):
		return false
	}
}

func TestNetworkCutAndHeal(t *testing.T) {
	netw, a, b, addrA, addrB := pair(t)
	if got := netw.Nodes(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("Nodes() = %q", got)
	}
	send := func(from *Transport, to string) {
		t.Helper()
		if _, err := from.WriteToAddress([]byte("ping"), memberlist.Address{Addr: to}); err != nil {
			t.Fatal(err)
		}
	}

	send(a, addrB)
	if !received(t, b, time.Second) {
		t.Fatal("link up: packet lost")
	}

	netw.Cut("b", "a")
	send(a, addrB)
	send(b, addrA)
	if received(t, b, 100*time.Millisecond) || received(t, a, 100*time.Millisecond) {
		t.Fatal("link cut: packet delivered")
	}
	start := time.Now()
	_, err := a.DialAddressTimeout(memberlist.Address{Addr: addrB}, 50*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial over a cut link = %v, want a timeout error", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("dial over a cut link failed after %v, before its timeout", waited)
	}
	if netw.Dropped() != 3 {
		t.Errorf("Dropped() = %d, want 3", netw.Dropped())
	}

	netw.Heal()
	send(b, addrA)
	if !received(t, a, time.Second) {
		t.Fatal("healed: packet lost")
	}
	c, err := a.DialTimeout(addrB, time.Second)
	if err != nil {
		t.Fatalf("healed: dial: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Take the connection b accepted: NetTransport's Shutdown waits for
	// its accept loop, which waits for the stream to be taken.
	if err := (<-b.StreamCh()).Close(); err != nil {
		t.Fatal(err)
	}

	netw.Isolate("a")
	send(b, addrA)
	if received(t, a, 100*time.Millisecond) {
		t.Fatal("isolated: packet delivered")
	}
	netw.HealLink("a", "b")
	send(b, addrA)
	if !received(t, a, time.Second) {
		t.Fatal("link healed: packet lost")
	}
}

func TestShutdownReleasesBlockedDial(t *testing.T) {
	netw, a, _, _, addrB := pair(t)
	netw.Isolate("a")
	done := make(chan error, 1)
	go func() {
		_, err := a.DialTimeout(addrB, time.Minute)
		done <- err
	}()
	if err := a.Shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("blocked dial succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not release a blocked dial")
	}
}
