package coord

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/fedstate/fedstate/dnsserver"
)

// Config configures the connection to the federation etcd and the leases
// kept in it. Durations are time.Duration; etcd leases have whole seconds.
type Config struct {
	// Endpoints are the client URLs of the federation etcd
	// ("https://etcd-0.example:2379"). Empty starts an embedded single-node
	// etcd on loopback (the Embed* fields) and connects to it: the local
	// default.
	Endpoints []string
	// DialTimeout bounds the first connection to etcd, TLS handshake
	// included.
	DialTimeout time.Duration
	// RequestTimeout bounds every single etcd request (a read, a
	// transaction, one lease renewal).
	RequestTimeout time.Duration
	// CertFile and KeyFile are the PEM client certificate and key presented
	// to etcd over TLS; set both or neither.
	CertFile string
	// KeyFile is the PEM private key of CertFile.
	KeyFile string
	// CAFile is the PEM bundle that signed etcd's serving certificate;
	// empty trusts the system roots.
	CAFile string
	// Insecure allows plaintext (http://) endpoints on hosts other than
	// loopback. Without it Validate refuses them: leases, epochs and DNS
	// records must not cross a network in the clear.
	Insecure bool
	// Prefix of every coordination key; it starts and ends with "/".
	Prefix string
	// LeaseTTL is the TTL of a primary lease and of an agent session, in
	// whole seconds of at least 2 (etcd's floor). A primary's holder fences
	// itself after LeaseTTL/2 without a renewal; the hub can promote
	// another replica only after LeaseTTL.
	LeaseTTL time.Duration
	// RenewInterval is how often an agent renews its leases; it must be
	// shorter than LeaseTTL/2 so a lost renewal can be retried before the
	// holder has to fence itself.
	RenewInterval time.Duration
	// LeaderTTL is the TTL of a hub replica's leadership session, in whole
	// seconds of at least 2: how long a crashed hub leader blocks the next.
	LeaderTTL time.Duration
	// EmbedDataDir is the embedded etcd's data directory (only without
	// Endpoints).
	EmbedDataDir string
	// EmbedClientURL is where the embedded etcd serves clients, an
	// http://loopback:port URL; port 0 picks a free port (see
	// Store.Endpoints).
	EmbedClientURL string
	// EmbedPeerURL is the embedded etcd's peer URL, an http://loopback:port
	// URL; port 0 picks a free port.
	EmbedPeerURL string
	// Logger receives the etcd client's (and embedded server's) logs; nil
	// discards them.
	Logger *zap.Logger
}

// DefaultConfig returns the local default: an embedded etcd on the
// standard loopback ports, which the other components reach at
// http://127.0.0.1:2379.
func DefaultConfig() Config {
	return Config{
		// Five seconds: a first connection across regions with a TLS
		// handshake takes well under a second; longer means etcd is down.
		DialTimeout: 5 * time.Second,
		// One second: a healthy etcd commits a transaction across regions in
		// a few hundred milliseconds; the bound must stay under LeaseTTL/2
		// so a stuck renewal leaves time to retry before self-fencing.
		RequestTimeout: time.Second,
		Prefix:         DefaultPrefix,
		// Five seconds: a dead primary is detected within five seconds,
		// and its holder fences itself after 2.5 s without a renewal,
		// leaving 2.5 s of margin before anyone else can be promoted.
		LeaseTTL: 5 * time.Second,
		// A tenth of the TTL: four renewals may fail in a row before the
		// holder has to fence itself at LeaseTTL/2.
		RenewInterval: 500 * time.Millisecond,
		// Ten seconds: a crashed hub leader delays control actions (never
		// the data path) by at most this long, and a briefly slow hub keeps
		// its leadership.
		LeaderTTL: 10 * time.Second,
		// etcd's own naming habit, "<name>.etcd" in the working directory.
		EmbedDataDir: "fedstate.etcd",
		// etcd's standard ports, where fedstate dns and agents look first.
		EmbedClientURL: "http://127.0.0.1:2379",
		EmbedPeerURL:   "http://127.0.0.1:2380",
	}
}

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	for i, ep := range c.Endpoints {
		errs = append(errs, c.validateEndpoint(i, ep))
	}
	errs = append(errs,
		positive("dialTimeout", c.DialTimeout),
		positive("requestTimeout", c.RequestTimeout),
		dnsserver.ValidatePrefix(c.Prefix),
		leaseTTL("leaseTTL", c.LeaseTTL),
		positive("renewInterval", c.RenewInterval),
		leaseTTL("leaderTTL", c.LeaderTTL),
	)
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, fmt.Errorf("certFile %q and keyFile %q: set both or neither", c.CertFile, c.KeyFile))
	}
	if c.LeaseTTL > 0 && c.RenewInterval >= c.LeaseTTL/2 {
		errs = append(errs, fmt.Errorf("renewInterval %v: must be shorter than leaseTTL/2 (%v)", c.RenewInterval, c.LeaseTTL/2))
	}
	if c.LeaseTTL > 0 && c.RequestTimeout >= c.LeaseTTL/2 {
		errs = append(errs, fmt.Errorf("requestTimeout %v: must be shorter than leaseTTL/2 (%v)", c.RequestTimeout, c.LeaseTTL/2))
	}
	if len(c.Endpoints) == 0 {
		if c.EmbedDataDir == "" {
			errs = append(errs, errors.New("embedDataDir: required without endpoints"))
		}
		errs = append(errs, loopbackURL("embedClientURL", c.EmbedClientURL), loopbackURL("embedPeerURL", c.EmbedPeerURL))
	}
	return errors.Join(errs...)
}

// validateEndpoint checks one client URL, and refuses plaintext to a
// non-loopback host unless Insecure is set.
func (c Config) validateEndpoint(i int, ep string) error {
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Port() == "" ||
		(u.Path != "" && u.Path != "/") {
		return fmt.Errorf("endpoints[%d] %q: not an http:// or https:// URL with a host and port", i, ep)
	}
	if u.Scheme != "http" {
		return nil
	}
	if c.CertFile != "" || c.CAFile != "" {
		return fmt.Errorf("endpoints[%d] %q: plaintext although TLS files are set; use https://", i, ep)
	}
	if !c.Insecure && !isLoopback(u.Hostname()) {
		return fmt.Errorf("endpoints[%d] %q: plaintext to a non-loopback host; use https:// or set insecure", i, ep)
	}
	return nil
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackURL checks an embedded etcd URL: http, loopback, explicit port.
func loopbackURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Port() == "" || net.ParseIP(u.Hostname()) == nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s %q: must be http://<loopback IP>:<port>", field, s)
	}
	return nil
}

func positive(field string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s %v: must be positive", field, d)
	}
	return nil
}

// leaseTTL checks an etcd lease TTL: whole seconds, at least etcd's floor.
func leaseTTL(field string, d time.Duration) error {
	if d < 2*time.Second || d%time.Second != 0 {
		return fmt.Errorf("%s %v: must be whole seconds, at least 2s", field, d)
	}
	return nil
}
