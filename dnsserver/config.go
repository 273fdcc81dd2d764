package dnsserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// NameServer is an NS record of the zone. When Host is inside the zone,
// Addrs become its A/AAAA (glue) records.
type NameServer struct {
	// Host is the fully qualified name of the name server.
	Host string
	// Addrs are the addresses of Host; required when Host is in the zone.
	Addrs []netip.Addr
}

// Config configures a DNS server: the zone it serves, the etcd records it
// reads and the listeners it runs. Durations are time.Duration; TTLs are
// whole seconds on the wire.
type Config struct {
	// Zone is the fully qualified origin served, for example "fedstate.local.".
	Zone string
	// Region is this server's region; same-region SRV targets get WeightLocal.
	Region string
	// NameServers are the zone's NS records (at least one).
	NameServers []NameServer
	// Hostmaster is the SOA RNAME, a fully qualified mailbox name.
	Hostmaster string
	// TTL of every positive answer and of the SOA and NS records.
	TTL time.Duration
	// NegativeTTL is the SOA MINIMUM: how long resolvers cache NXDOMAIN and
	// NODATA (RFC 2308); the SOA in negative answers carries min(TTL, NegativeTTL).
	NegativeTTL time.Duration
	// Prefix is the etcd prefix of the DNS records; it ends in "/".
	Prefix string
	// StaleAfter is the watch-loss bound: when nothing was heard from the etcd
	// watch for this long, primary names answer SERVFAIL and health fails.
	StaleAfter time.Duration
	// ProgressInterval is how often the server asks etcd for a watch progress
	// notification, which both proves the watch alive and advances the serial.
	ProgressInterval time.Duration
	// RequestTimeout bounds each etcd request (range read, progress request).
	RequestTimeout time.Duration
	// RetryInterval is the pause before reloading after a lost watch.
	RetryInterval time.Duration
	// Listen is the UDP and TCP address of the DNS listeners (host:port).
	Listen string
	// TCPIdleTimeout closes a TCP connection idle for this long (RFC 7766).
	TCPIdleTimeout time.Duration
	// MaxTCPQueries is how many queries one TCP connection may carry; -1 is unlimited.
	MaxTCPQueries int
	// ShutdownTimeout bounds graceful shutdown of the listeners.
	ShutdownTimeout time.Duration
	// TransferFrom are the client networks allowed to transfer the zone
	// (AXFR, IXFR) over TCP; empty allows nobody.
	TransferFrom []netip.Prefix
	// TSIGKeys maps TSIG key names (fully qualified, lower case) to base64
	// secrets (HMAC-SHA256 and the other algorithms miekg/dns knows); when
	// set, zone transfers must be signed with one of them.
	TSIGKeys map[string]string
	// NotifyTargets are secondaries sent a NOTIFY (RFC 1996) each time the
	// records change, so they transfer the new serial at once.
	NotifyTargets []netip.AddrPort
	// RateLimit is how many UDP responses per second one client network
	// (IPv4 /24, IPv6 /56) receives, in bursts of as many; 0 is no limit.
	// TCP is not limited: its source address is proven.
	RateLimit int
	// RateLimitSlip: of the queries over RateLimit, every RateLimitSlip-th
	// is answered truncated, so a real client behind a flooded network
	// retries over TCP, and the rest are dropped; 0 drops them all.
	RateLimitSlip int
	// IXFRJournal is how many of the latest changes of the records IXFR
	// answers with differences (RFC 1995); a secondary further behind, or
	// behind a full reload, gets the whole zone. 0 always sends the zone.
	IXFRJournal int
}

// DefaultConfig returns the configuration of the local default: one server
// on loopback next to an embedded federation etcd.
func DefaultConfig() Config {
	return Config{
		Zone:   "fedstate.local.",
		Region: "local",
		NameServers: []NameServer{{Host: "ns.fedstate.local.",
			Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}},
		Hostmaster: "hostmaster.fedstate.local.",
		// Five seconds: a resolver re-asks soon after a primary flip, while
		// caches still absorb most load.
		TTL: 5 * time.Second,
		// Same as TTL: a replica that appears is found within seconds.
		NegativeTTL: 5 * time.Second,
		Prefix:      DefaultPrefix,
		// Three seconds: shorter than the primary lease TTL plus the DNS TTL,
		// so a server cut from etcd stops naming a primary before a new one
		// can be promoted and cached answers expire.
		StaleAfter: 3 * time.Second,
		// A third of StaleAfter: two lost progress rounds still fit in the bound.
		ProgressInterval: time.Second,
		// One second: a healthy etcd answers a range read of the zone in
		// milliseconds; longer means it is not healthy.
		RequestTimeout: time.Second,
		// Half a second between reloads: fast recovery, bounded load on etcd.
		RetryInterval: 500 * time.Millisecond,
		Listen:        "127.0.0.1:5353",
		// Ten seconds, RFC 7766 suggests seconds, not minutes.
		TCPIdleTimeout: 10 * time.Second,
		// 128 pipelined queries per connection (the miekg/dns default).
		MaxTCPQueries: 128,
		// Five seconds to finish in-flight queries.
		ShutdownTimeout: 5 * time.Second,
		// 100 changes: with NOTIFY a secondary is rarely more than one
		// change behind; 100 covers a secondary down for a while during a
		// busy failover period, and each entry costs only the records its
		// change replaced (at most etcd's 128 keys per transaction).
		IXFRJournal: 100,
		// 100 responses per second per client network: a server reachable
		// from anywhere is no amplifier worth using (at most about 120 KB/s
		// of answers towards any /24), while a cluster's caching resolver
		// that re-asks 500 names every 5 s TTL stays within it. BIND's
		// usual 5-20 counts identical answers only; this counts every
		// answer to the network, so it must be larger. 0 turns it off.
		RateLimit: 100,
		// Every second query over the limit is answered truncated, as
		// BIND's response rate limiting does by default.
		RateLimitSlip: 2,
	}
}

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	if !isCanonicalName(c.Zone) {
		errs = append(errs, fmt.Errorf("zone %q: not a lower-case fully qualified domain name", c.Zone))
	}
	if c.Region == "" || len(c.Region) > 63 {
		errs = append(errs, fmt.Errorf("region %q: must be 1-63 characters", c.Region))
	}
	if len(c.NameServers) == 0 {
		errs = append(errs, errors.New("nameServers: at least one is required"))
	}
	for i, ns := range c.NameServers {
		if !isCanonicalName(ns.Host) {
			errs = append(errs, fmt.Errorf("nameServers[%d].Host %q: not a lower-case fully qualified domain name", i, ns.Host))
			continue
		}
		rel, in := relativeLabels(c.Zone, ns.Host)
		if in && len(ns.Addrs) == 0 {
			errs = append(errs, fmt.Errorf("nameServers[%d] %q: in the zone, so it needs Addrs", i, ns.Host))
		}
		if in && (len(rel) == 0 || rel[len(rel)-1] == "svc") {
			errs = append(errs, fmt.Errorf("nameServers[%d] %q: collides with the zone apex or svc.%s", i, ns.Host, c.Zone))
		}
		for _, a := range ns.Addrs {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
				errs = append(errs, fmt.Errorf("nameServers[%d] address %v: not a plain IPv4 or IPv6 address", i, a))
			}
		}
	}
	if !isCanonicalName(c.Hostmaster) {
		errs = append(errs, fmt.Errorf("hostmaster %q: not a lower-case fully qualified domain name", c.Hostmaster))
	}
	errs = append(errs, ttl("ttl", c.TTL), ttl("negativeTTL", c.NegativeTTL), ValidatePrefix(c.Prefix))
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"staleAfter", c.StaleAfter}, {"progressInterval", c.ProgressInterval}, {"requestTimeout", c.RequestTimeout},
		{"retryInterval", c.RetryInterval}, {"tcpIdleTimeout", c.TCPIdleTimeout}, {"shutdownTimeout", c.ShutdownTimeout}} {
		errs = append(errs, positive(d.name, d.v))
	}
	if c.ProgressInterval >= c.StaleAfter {
		errs = append(errs, fmt.Errorf("progressInterval %v: must be shorter than staleAfter %v", c.ProgressInterval, c.StaleAfter))
	}
	if _, err := netip.ParseAddrPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: %w", c.Listen, err))
	}
	if c.MaxTCPQueries == 0 || c.MaxTCPQueries < -1 {
		errs = append(errs, fmt.Errorf("maxTCPQueries %d: must be positive or -1", c.MaxTCPQueries))
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rateLimit %d: must not be negative", c.RateLimit))
	}
	if c.RateLimitSlip < 0 {
		errs = append(errs, fmt.Errorf("rateLimitSlip %d: must not be negative", c.RateLimitSlip))
	}
	if c.IXFRJournal < 0 {
		errs = append(errs, fmt.Errorf("ixfrJournal %d: must not be negative", c.IXFRJournal))
	}
	for name, secret := range c.TSIGKeys {
		if !isCanonicalName(name) {
			errs = append(errs, fmt.Errorf("tsigKeys %q: not a lower-case fully qualified name", name))
		}
		if b, err := base64.StdEncoding.DecodeString(secret); err != nil || len(b) == 0 {
			errs = append(errs, fmt.Errorf("tsigKeys %q: secret is not non-empty base64", name))
		}
	}
	for i, p := range c.TransferFrom {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("transferFrom[%d]: invalid prefix", i))
		}
	}
	for i, t := range c.NotifyTargets {
		if !t.IsValid() || t.Port() == 0 {
			errs = append(errs, fmt.Errorf("notifyTargets[%d] %v: needs an address and a port", i, t))
		}
	}
	return errors.Join(errs...)
}

func ttl(field string, d time.Duration) error {
	if d < time.Second || d > 7*24*time.Hour || d%time.Second != 0 {
		return fmt.Errorf("%s %v: must be whole seconds between 1s and 168h", field, d)
	}
	return nil
}

func isCanonicalName(s string) bool {
	if s != strings.ToLower(s) || !dns.IsFqdn(s) {
		return false
	}
	_, ok := dns.IsDomainName(s)
	return ok
}
