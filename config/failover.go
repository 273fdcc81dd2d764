package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Failover configures the hub's failover coordinator and DNS publishing:
// the federation etcd it coordinates in and the pace of its work.
type Failover struct {
	// Enabled runs the failover coordinator and DNS publishing. Off, no
	// service in PrimaryReplica mode gets a primary and no DNS records
	// are written.
	Enabled bool `json:"enabled"`
	// Etcd is the connection to the federation etcd.
	Etcd Etcd `json:"etcd"`
	// DNSPrefix is the etcd prefix of the DNS records, the one
	// `fedstate dns --prefix` reads.
	DNSPrefix string `json:"dnsPrefix"`
	// TickInterval is how often each service's timers are checked and its
	// status and DNS records compared with its failover state.
	TickInterval time.Duration `json:"tickInterval"`
	// StepTimeout is how long an agent may take to confirm a demotion or
	// promotion before the coordinator gives up on it; 0 waits forever.
	StepTimeout time.Duration `json:"stepTimeout"`
	// SaveInterval is how often a failover state whose only changes are
	// replication positions is stored in etcd.
	SaveInterval time.Duration `json:"saveInterval"`
}

// Etcd configures a connection to the federation etcd; the fields are
// those of replication/coord's Config, which checks them in full when the
// hub connects.
type Etcd struct {
	// Endpoints are the etcd client URLs; none starts an embedded
	// single-node etcd (the Embed fields): the local default.
	Endpoints []string `json:"endpoints"`
	// CertFile and KeyFile are the PEM client certificate and key for TLS.
	CertFile string `json:"certFile"`
	// KeyFile is the PEM private key of CertFile.
	KeyFile string `json:"keyFile"`
	// CAFile is the PEM bundle that signed etcd's serving certificate;
	// empty trusts the system roots.
	CAFile string `json:"caFile"`
	// Insecure allows plaintext endpoints on hosts other than loopback.
	Insecure bool `json:"insecure"`
	// Prefix of the coordination keys; starts and ends with "/".
	Prefix string `json:"prefix"`
	// DialTimeout bounds the first connection, TLS handshake included.
	DialTimeout time.Duration `json:"dialTimeout"`
	// RequestTimeout bounds every single etcd request.
	RequestTimeout time.Duration `json:"requestTimeout"`
	// LeaseTTL is the TTL of primary leases and agent sessions (whole
	// seconds, at least 2s).
	LeaseTTL time.Duration `json:"leaseTTL"`
	// RenewInterval is how often agents renew their leases.
	RenewInterval time.Duration `json:"renewInterval"`
	// LeaderTTL is the TTL of the hub's etcd leadership (whole seconds, at
	// least 2s): how long a crashed hub blocks the next.
	LeaderTTL time.Duration `json:"leaderTTL"`
	// EmbedDataDir is the embedded etcd's data directory.
	EmbedDataDir string `json:"embedDataDir"`
	// EmbedClientURL is where the embedded etcd serves clients.
	EmbedClientURL string `json:"embedClientURL"`
	// EmbedPeerURL is the embedded etcd's peer URL.
	EmbedPeerURL string `json:"embedPeerURL"`
}

// DefaultFailover is the coordinator's default configuration: on, with an
// embedded etcd.
func DefaultFailover() Failover {
	return Failover{
		// On: a service in PrimaryReplica mode needs it for a primary.
		Enabled: true,
		Etcd: Etcd{
			// replication/coord's defaults, each explained there.
			Prefix: "/fedstate/coord/", DialTimeout: 5 * time.Second, RequestTimeout: time.Second,
			LeaseTTL: 5 * time.Second, RenewInterval: 500 * time.Millisecond, LeaderTTL: 10 * time.Second,
			EmbedDataDir: "fedstate.etcd", EmbedClientURL: "http://127.0.0.1:2379", EmbedPeerURL: "http://127.0.0.1:2380",
		},
		// Where fedstate dns looks by default.
		DNSPrefix: "/fedstate/dns/",
		// One second: grace periods and RPO times are given in seconds.
		TickInterval: time.Second,
		// Two minutes: a demotion may wait for a checkpoint of a minute.
		StepTimeout: 2 * time.Minute,
		// Five seconds: positions change every report; storing each would
		// write etcd once per replica per second.
		SaveInterval: 5 * time.Second,
	}
}

// Validate reports the bad fields it can judge alone, each named by its
// path in the file; the etcd fields are checked in full on connecting.
func (f Failover) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("failover.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !f.Enabled {
		return nil
	}
	for field, p := range map[string]string{"dnsPrefix": f.DNSPrefix, "etcd.prefix": f.Etcd.Prefix} {
		if len(p) < 2 || !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
			bad(field, "must start and end with / and not be /, got %q", p)
		}
	}
	for field, d := range map[string]time.Duration{"tickInterval": f.TickInterval, "saveInterval": f.SaveInterval,
		"etcd.dialTimeout": f.Etcd.DialTimeout, "etcd.requestTimeout": f.Etcd.RequestTimeout,
		"etcd.leaseTTL": f.Etcd.LeaseTTL, "etcd.renewInterval": f.Etcd.RenewInterval, "etcd.leaderTTL": f.Etcd.LeaderTTL} {
		if d <= 0 {
			bad(field, "must be > 0, got %s", d)
		}
	}
	if f.StepTimeout < 0 {
		bad("stepTimeout", "must not be negative, got %s", f.StepTimeout)
	}
	if (f.Etcd.CertFile == "") != (f.Etcd.KeyFile == "") {
		bad("etcd.certFile", "set together with etcd.keyFile")
	}
	return errors.Join(errs...)
}

// UnmarshalJSON reads durations as Go duration strings ("5s"), rejects
// unknown fields and keeps the fields data leaves out.
func (f *Failover) UnmarshalJSON(data []byte) error {
	var in struct {
		Enabled      *bool           `json:"enabled"`
		Etcd         json.RawMessage `json:"etcd"`
		DNSPrefix    *string         `json:"dnsPrefix"`
		TickInterval *string         `json:"tickInterval"`
		StepTimeout  *string         `json:"stepTimeout"`
		SaveInterval *string         `json:"saveInterval"`
	}
	if err := decodeStrict(data, &in); err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	set(&f.Enabled, in.Enabled)
	set(&f.DNSPrefix, in.DNSPrefix)
	errs := []error{
		duration("failover.tickInterval", in.TickInterval, &f.TickInterval),
		duration("failover.stepTimeout", in.StepTimeout, &f.StepTimeout),
		duration("failover.saveInterval", in.SaveInterval, &f.SaveInterval),
	}
	if in.Etcd != nil {
		errs = append(errs, f.Etcd.unmarshal(in.Etcd))
	}
	return errors.Join(errs...)
}

// unmarshal reads the etcd section over e.
func (e *Etcd) unmarshal(data []byte) error {
	var in struct {
		Endpoints      []string `json:"endpoints"`
		CertFile       *string  `json:"certFile"`
		KeyFile        *string  `json:"keyFile"`
		CAFile         *string  `json:"caFile"`
		Insecure       *bool    `json:"insecure"`
		Prefix         *string  `json:"prefix"`
		DialTimeout    *string  `json:"dialTimeout"`
		RequestTimeout *string  `json:"requestTimeout"`
		LeaseTTL       *string  `json:"leaseTTL"`
		RenewInterval  *string  `json:"renewInterval"`
		LeaderTTL      *string  `json:"leaderTTL"`
		EmbedDataDir   *string  `json:"embedDataDir"`
		EmbedClientURL *string  `json:"embedClientURL"`
		EmbedPeerURL   *string  `json:"embedPeerURL"`
	}
	if err := decodeStrict(data, &in); err != nil {
		return fmt.Errorf("failover.etcd: %w", err)
	}
	if in.Endpoints != nil {
		e.Endpoints = in.Endpoints
	}
	for into, v := range map[*string]*string{&e.CertFile: in.CertFile, &e.KeyFile: in.KeyFile, &e.CAFile: in.CAFile,
		&e.Prefix: in.Prefix, &e.EmbedDataDir: in.EmbedDataDir, &e.EmbedClientURL: in.EmbedClientURL, &e.EmbedPeerURL: in.EmbedPeerURL} {
		set(into, v)
	}
	set(&e.Insecure, in.Insecure)
	return errors.Join(
		duration("failover.etcd.dialTimeout", in.DialTimeout, &e.DialTimeout),
		duration("failover.etcd.requestTimeout", in.RequestTimeout, &e.RequestTimeout),
		duration("failover.etcd.leaseTTL", in.LeaseTTL, &e.LeaseTTL),
		duration("failover.etcd.renewInterval", in.RenewInterval, &e.RenewInterval),
		duration("failover.etcd.leaderTTL", in.LeaderTTL, &e.LeaderTTL))
}
