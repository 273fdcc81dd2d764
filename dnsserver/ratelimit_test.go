package dnsserver

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRateLimiter(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := newRateLimiter(3, 2, c.now)
	a, b := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.200") // one /24
	other := netip.MustParseAddr("198.51.100.1")
	v6a, v6b := netip.MustParseAddr("2001:db8:0:ff::1"), netip.MustParseAddr("2001:db8:0:1::2") // one /56
	type step struct {
		client    netip.Addr
		advance   time.Duration
		ok, slips bool
	}
	for i, s := range []step{
		{client: a, ok: true}, {client: b, ok: true}, {client: a, ok: true}, // the burst of 3, shared by the /24
		{client: a}, {client: b, slips: true}, {client: a}, {client: a, slips: true}, // over: dropped, slipped, ...
		{client: other, ok: true},                              // another network has its own budget
		{client: netip.MustParseAddr("::ffff:192.0.2.7")},      // a mapped IPv4 address is its IPv4 network
		{client: a, advance: 340 * time.Millisecond, ok: true}, // 1.02 responses refilled
		{client: a},
		{client: a, advance: time.Hour, ok: true}, {client: a, ok: true}, {client: a, ok: true}, {client: a}, // refills to the burst, no more
		{client: v6a, ok: true}, {client: v6b, ok: true}, {client: v6a, ok: true}, {client: v6b},
	} {
		c.t = c.t.Add(s.advance)
		ok, slip := l.allow(s.client)
		if ok != s.ok || slip != s.slips {
			t.Errorf("step %d (%v): allow = %v, slip %v; want %v, %v", i, s.client, ok, slip, s.ok, s.slips)
		}
	}
	if newRateLimiter(0, 2, c.now) != nil {
		t.Error("rate 0 built a limiter")
	}
}

func TestRateLimiterTableBounded(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := newRateLimiter(1, 0, c.now)
	for i := range rateLimitClients {
		if ok, _ := l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})); !ok {
			t.Fatalf("network %d limited on its first response", i)
		}
	}
	// Every network still spends its budget: a new one goes untracked.
	if ok, _ := l.allow(netip.MustParseAddr("172.16.0.1")); !ok || len(l.clients) != rateLimitClients {
		t.Fatalf("full table: allow = %v, %d networks", ok, len(l.clients))
	}
	// A second later every budget is full again: the sweep makes room.
	c.t = c.t.Add(time.Second)
	if ok, _ := l.allow(netip.MustParseAddr("172.16.0.1")); !ok || len(l.clients) != 1 {
		t.Fatalf("after the sweep: allow = %v, %d networks", ok, len(l.clients))
	}
}

// udpFrom is a recorder whose client is at addr over UDP.
type udpFrom struct {
	recorder
	addr net.Addr
}

func (u *udpFrom) RemoteAddr() net.Addr { return u.addr }

// TestHandlerRateLimit runs ServeDNS with a limit of 2 responses per
// second and slip 2: two answers, then truncated answers for every second
// query over the limit and nothing for the others; TCP is not limited.
func TestHandlerRateLimit(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Unix(1000, 0)}
	h := NewHandler(fixedSource{snap: fixtureSnapshot(t)}, m)
	h.limit = newRateLimiter(2, 2, c.now)
	client := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5300}
	var got []string
	for range 6 {
		w := &udpFrom{addr: client}
		h.ServeDNS(w, query{name: "db-1.db.prod.svc." + z, qtype: dns.TypeA}.msg())
		switch {
		case len(w.out) == 0:
			got = append(got, "dropped")
		case w.out[0].Truncated && len(w.out[0].Answer) == 0 && len(w.out[0].Question) == 1:
			got = append(got, "truncated")
		case len(w.out[0].Answer) == 1:
			got = append(got, "answered")
		default:
			got = append(got, w.out[0].String())
		}
	}
	want := []string{"answered", "answered", "dropped", "truncated", "dropped", "truncated"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	w := &recorder{tcp: true}
	h.ServeDNS(w, query{name: "db-1.db.prod.svc." + z, qtype: dns.TypeA}.msg())
	if len(w.out) != 1 || len(w.out[0].Answer) != 1 {
		t.Errorf("TCP query from a limited client: %v", w.out)
	}
	for action, want := range map[string]float64{"dropped": 2, "slipped": 2} {
		var got dto.Metric
		if err := m.rateLimited.WithLabelValues(action).Write(&got); err != nil || got.GetCounter().GetValue() != want {
			t.Errorf("fedstate_dns_rate_limited_total{action=%q} = %v (%v), want %v", action, got.GetCounter().GetValue(), err, want)
		}
	}
}

func TestServerConfiguresRateLimit(t *testing.T) {
	cfg := integrationConfig("/it-rrl/")
	cfg.RateLimit, cfg.RateLimitSlip = 50, 3
	srv, err := New(cfg, etcd.client(t), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if l := srv.handler.limit; l == nil || l.rate != 50 || l.slip != 3 {
		t.Fatalf("limiter %+v, want rate 50 slip 3", l)
	}
	cfg.RateLimit = 0
	if srv, err = New(cfg, etcd.client(t), prometheus.NewRegistry()); err != nil || srv.handler.limit != nil {
		t.Fatalf("RateLimit 0: limiter %+v, %v", srv.handler.limit, err)
	}
	def := DefaultConfig()
	def.Prefix = "/it-rrl/"
	if srv, err = New(def, etcd.client(t), prometheus.NewRegistry()); err != nil || srv.handler.limit == nil ||
		srv.handler.limit.rate != 100 || srv.handler.limit.slip != 2 {
		t.Fatalf("default configuration: limiter %+v, %v; want 100 per second, slip 2", srv.handler.limit, err)
	}
}
