package load

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// Clock is the generator's time source: the times it records, the pace of
// its operations and the age of DNS answers. Implementations must be safe
// for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d has passed; it does not
	// block.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the Clock of the operating system.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// resolver looks one name up at one DNS server and keeps the answer until
// its TTL or maxAge runs out, whichever comes first. It is used by one
// goroutine at a time.
type resolver struct {
	server string
	name   string
	maxAge time.Duration
	clock  Clock

	addrs   []netip.Addr
	expires time.Time
}

// newResolver returns a resolver of name at server.
func newResolver(server, name string, maxAge time.Duration, clock Clock) *resolver {
	return &resolver{server: server, name: name, maxAge: maxAge, clock: clock}
}

// resolve returns the name's addresses, sorted: the kept answer while it
// is fresh, else a new one. It blocks on the DNS server, within ctx.
func (r *resolver) resolve(ctx context.Context) ([]netip.Addr, error) {
	if r.addrs != nil && r.clock.Now().Before(r.expires) {
		return r.addrs, nil
	}
	r.addrs = nil
	asked := r.clock.Now()
	addrs, ttl, err := r.query(ctx, dns.TypeA)
	if err == nil && len(addrs) == 0 {
		addrs, ttl, err = r.query(ctx, dns.TypeAAAA)
	}
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no address", r.name)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	r.addrs, r.expires = slices.Compact(addrs), asked.Add(min(ttl, r.maxAge))
	return r.addrs, nil
}

// forget drops the kept answer: the next resolve asks the server.
func (r *resolver) forget() { r.addrs = nil }

// query asks for the name's records of qtype, over TCP when the UDP answer
// is truncated, and returns the addresses and their smallest TTL. A
// successful answer without such records (NODATA) gives none and no error.
func (r *resolver) query(ctx context.Context, qtype uint16) ([]netip.Addr, time.Duration, error) {
	m := new(dns.Msg)
	m.SetQuestion(r.name, qtype)
	m.RecursionDesired = false
	in, _, err := (&dns.Client{Net: "udp"}).ExchangeContext(ctx, m, r.server)
	if err == nil && in.Truncated {
		in, _, err = (&dns.Client{Net: "tcp"}).ExchangeContext(ctx, m, r.server)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("resolve %s %s at %s: %w", r.name, dns.TypeToString[qtype], r.server, err)
	}
	if in.Rcode != dns.RcodeSuccess {
		return nil, 0, fmt.Errorf("resolve %s %s at %s: %s", r.name, dns.TypeToString[qtype], r.server, dns.RcodeToString[in.Rcode])
	}
	var addrs []netip.Addr
	ttl := r.maxAge
	for _, rr := range in.Answer {
		var a netip.Addr
		switch rr := rr.(type) {
		case *dns.A:
			a, _ = netip.AddrFromSlice(rr.A.To4())
		case *dns.AAAA:
			a, _ = netip.AddrFromSlice(rr.AAAA)
		default:
			continue
		}
		if !a.IsValid() || rr.Header().Rrtype != qtype {
			continue
		}
		addrs = append(addrs, a)
		ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
	}
	return addrs, ttl, nil
}
