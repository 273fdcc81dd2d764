package load

import (
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// stubDNS answers A queries with its addresses and TTL, over UDP and TCP,
// and counts the queries.
type stubDNS struct {
	mu       sync.Mutex
	addrs    []string
	ttl      uint32
	rcode    int
	truncate bool // truncate UDP answers
	queries  map[string]int
}

func (s *stubDNS) ServeDNS(rw dns.ResponseWriter, q *dns.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	network := rw.LocalAddr().Network()
	s.queries[network]++
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	m.Rcode = s.rcode
	if s.truncate && network == "udp" {
		m.Truncated = true
	} else if q.Question[0].Qtype == dns.TypeA {
		for _, a := range s.addrs {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: s.ttl},
				A:   net.ParseIP(a),
			})
		}
	}
	_ = rw.WriteMsg(m)
}

func (s *stubDNS) set(f func(*stubDNS)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *stubDNS) count() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]int{"udp": s.queries["udp"], "tcp": s.queries["tcp"]}
}

// startStub serves stub over UDP and TCP on one loopback port.
func startStub(t *testing.T, stub *stubDNS) string {
	t.Helper()
	stub.queries = map[string]int{}
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	// The UDP port may be taken for TCP: try another.
	for range 5 {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: stub}, {Listener: ln, Handler: stub}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() {
			if err := srv.Shutdown(); err != nil {
				t.Error(err)
			}
		})
	}
	return pc.LocalAddr().String()
}

func TestResolverFreshness(t *testing.T) {
	stub := &stubDNS{addrs: []string{"127.0.0.2", "127.0.0.1"}, ttl: 5}
	server := startStub(t, stub)
	clock := &fakeClock{now: t0}
	r := newResolver(server, "primary.pg.demo.svc.fedstate.local.", time.Second, clock)
	resolve := func(want ...string) {
		t.Helper()
		got, err := r.resolve(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var ws []netip.Addr
		for _, a := range want {
			ws = append(ws, netip.MustParseAddr(a))
		}
		if !reflect.DeepEqual(got, ws) {
			t.Fatalf("addresses %v, want %v", got, ws)
		}
	}
	queries := func(want int) {
		t.Helper()
		if got := stub.count()["udp"]; got != want {
			t.Fatalf("%d queries, want %d", got, want)
		}
	}

	resolve("127.0.0.1", "127.0.0.2") // sorted
	queries(1)
	clock.advance(999 * time.Millisecond)
	resolve("127.0.0.1", "127.0.0.2")
	queries(1) // kept within ResolveInterval though the TTL is 5 s

	stub.set(func(s *stubDNS) { s.addrs = []string{"127.0.0.3"} })
	clock.advance(time.Millisecond)
	resolve("127.0.0.3") // ResolveInterval over
	queries(2)

	r.forget()
	resolve("127.0.0.3")
	queries(3) // an error makes the generator forget

	stub.set(func(s *stubDNS) { s.ttl = 0 })
	r.forget()
	resolve("127.0.0.3")
	resolve("127.0.0.3")
	queries(5) // TTL 0: never kept
}

func TestResolverErrors(t *testing.T) {
	stub := &stubDNS{addrs: []string{"127.0.0.1"}, ttl: 5, rcode: dns.RcodeServerFailure}
	server := startStub(t, stub)
	r := newResolver(server, "primary.pg.demo.svc.fedstate.local.", time.Second, &fakeClock{now: t0})
	if _, err := r.resolve(t.Context()); err == nil {
		t.Fatal("SERVFAIL resolved")
	}
	stub.set(func(s *stubDNS) { s.rcode, s.addrs = dns.RcodeSuccess, nil })
	if _, err := r.resolve(t.Context()); err == nil {
		t.Fatal("an answer without addresses resolved")
	}
	// NODATA for A is followed by an AAAA query.
	if got := stub.count()["udp"]; got != 3 {
		t.Errorf("%d queries, want 3 (A SERVFAIL, A and AAAA NODATA)", got)
	}
	// A truncated answer is asked again over TCP.
	stub.set(func(s *stubDNS) { s.addrs, s.truncate = []string{"127.0.0.9"}, true })
	got, err := r.resolve(t.Context())
	if err != nil || len(got) != 1 || got[0] != netip.MustParseAddr("127.0.0.9") {
		t.Fatalf("resolve over TCP: %v %v", got, err)
	}
	if got := stub.count()["tcp"]; got != 1 {
		t.Errorf("%d TCP queries, want 1", got)
	}
}
