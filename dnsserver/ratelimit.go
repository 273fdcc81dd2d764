package dnsserver

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Client networks share one response budget: a /24 for IPv4, a /56 for
// IPv6 (what one site or one host typically holds), as BIND's response
// rate limiting does.
const (
	rateLimitBitsV4 = 24
	rateLimitBitsV6 = 56
	// rateLimitClients bounds the table of client networks. When it is
	// full of networks still spending their budget, new networks are
	// answered without a budget rather than growing the table.
	rateLimitClients = 1 << 16
)

// rateLimiter limits the UDP responses per client network with a token
// bucket per network: Config.RateLimit responses per second, bursts of as
// many. It is safe for concurrent use.
type rateLimiter struct {
	rate float64 // responses per second and bucket size
	slip int
	now  func() time.Time

	mu      sync.Mutex
	clients map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	over   int // responses over the limit so far, for the slip
}

// newRateLimiter returns a limiter of rate responses per second per client
// network; nil when rate is 0 (no limit).
func newRateLimiter(rate, slip int, now func() time.Time) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	return &rateLimiter{rate: float64(rate), slip: slip, now: now, clients: map[netip.Prefix]*bucket{}}
}

// allow reports whether a response to client may be sent; when not, slip
// says whether to send a truncated response instead of nothing.
func (l *rateLimiter) allow(client netip.Addr) (ok, slip bool) {
	client = client.Unmap()
	bits := rateLimitBitsV4
	if client.Is6() {
		bits = rateLimitBitsV6
	}
	network, err := client.Prefix(bits)
	if err != nil {
		return true, false
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.clients[network]
	if b == nil {
		if len(l.clients) >= rateLimitClients && !l.sweep(now) {
			return true, false
		}
		b = &bucket{tokens: l.rate, last: now}
		l.clients[network] = b
	}
	b.tokens = min(l.rate, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		b.over = 0
		return true, false
	}
	b.over++
	return false, l.slip > 0 && b.over%l.slip == 0
}

// sweep forgets the networks whose budget is full again (idle for a
// second or more); it reports whether that made room.
func (l *rateLimiter) sweep(now time.Time) bool {
	for network, b := range l.clients {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.rate {
			delete(l.clients, network)
		}
	}
	return len(l.clients) < rateLimitClients
}

// limited applies the rate limit to a UDP query; it reports whether the
// query was dealt with (dropped, or answered truncated so that the client
// retries over TCP, RFC 7766).
func (h *Handler) limited(w dns.ResponseWriter, req *dns.Msg) bool {
	addr, ok := w.RemoteAddr().(*net.UDPAddr)
	if h.limit == nil || !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(addr.IP)
	if !ok {
		return false
	}
	allowed, slip := h.limit.allow(ip)
	if allowed {
		return false
	}
	action := "dropped"
	if slip && !req.Response && len(req.Question) == 1 {
		action = "slipped"
		m := new(dns.Msg)
		m.SetReply(req)
		m.Truncated = true
		_ = w.WriteMsg(m) // the client is gone: nothing to do
	}
	if h.metrics != nil {
		h.metrics.rateLimited.WithLabelValues(action).Inc()
	}
	return true
}
