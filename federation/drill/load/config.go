package load

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/fedstate/fedstate/dnsserver"
)

// Config configures a Generator.
type Config struct {
	// DNSServer is the federation DNS server asked for the service's names
	// (host:port), a fedstate dns listener.
	DNSServer string
	// Zone is the federation zone, fully qualified ("fedstate.local.").
	Zone string
	// Namespace and Service name the federated service: writes go to
	// primary.<Service>.<Namespace>.svc.<Zone>, reads to
	// <Service>.<Namespace>.svc.<Zone>.
	Namespace, Service string
	// Port is the PostgreSQL port of the service's replicas.
	Port uint16
	// Rate is how many writes a second are attempted, one INSERT each.
	Rate float64
	// ReadRate is how many reads a second are attempted on any ready
	// replica; 0 makes no reads.
	ReadRate float64
	// Table is the table written, a plain SQL identifier.
	Table string
	// CreateTable creates the table (CREATE TABLE IF NOT EXISTS) on every
	// new connection to a primary, before the first write there.
	CreateTable bool
	// RunID tells this run's rows from other runs' in the same table; empty
	// means New makes one up from the time and random bytes.
	RunID string
	// User, Password and Database are the PostgreSQL connection settings
	// (no TLS). An empty Password sends none (trust authentication).
	User, Password, Database string
	// OpTimeout bounds one operation: name resolution, connection and
	// statement together. A write that takes longer counts as failed.
	OpTimeout time.Duration
	// ResolveInterval is the longest time an answer of the DNS server is
	// used; an answer is never used past its TTL either, and every failed
	// operation resolves again.
	ResolveInterval time.Duration
	// GapThreshold: Snapshot lists the gaps between acknowledged writes
	// longer than this; zero means ten write intervals.
	GapThreshold time.Duration
	// Clock is the time source; nil is the system clock.
	Clock Clock
}

// DefaultConfig returns the settings of fedctl load against the local
// federation; Namespace and Service are left empty.
func DefaultConfig() Config {
	return Config{
		// The listener the README starts fedstate dns on.
		DNSServer: "127.0.0.1:5353",
		Zone:      dnsserver.DefaultConfig().Zone,
		Port:      5432,
		// Twenty writes a second resolve a downtime to 50 ms and keep a
		// small test server far from busy.
		Rate:     20,
		Table:    "fedstate_load",
		User:     "postgres",
		Database: "postgres",
		// One second: an application waits about that long before it
		// retries; a write slower than that is an outage to its user.
		OpTimeout: time.Second,
		// One second: a client follows a new primary within a second of
		// the DNS server naming it, even if the answer's TTL is longer.
		ResolveInterval: time.Second,
		// Zero: ten write intervals (500 ms at the default rate), so a
		// pause of one slow write is not listed at any rate, a failover is.
		GapThreshold: 0,
	}
}

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.DNSServer); err != nil {
		errs = append(errs, fmt.Errorf("dnsServer %q: want host:port", c.DNSServer))
	}
	if !validZone(c.Zone) {
		errs = append(errs, fmt.Errorf("zone %q: want a fully qualified domain name such as \"fedstate.local.\"", c.Zone))
	}
	if !dnsserver.IsLabel(c.Namespace) {
		errs = append(errs, fmt.Errorf("namespace %q: must be a DNS label", c.Namespace))
	}
	if !dnsserver.IsLabel(c.Service) {
		errs = append(errs, fmt.Errorf("service %q: must be a DNS label", c.Service))
	}
	if c.Port == 0 {
		errs = append(errs, errors.New("port: must be set"))
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		errs = append(errs, fmt.Errorf("rate %v: must be a positive number of writes a second", c.Rate))
	}
	if !(c.ReadRate >= 0) || math.IsInf(c.ReadRate, 0) {
		errs = append(errs, fmt.Errorf("readRate %v: must be zero or a positive number of reads a second", c.ReadRate))
	}
	if !validIdentifier(c.Table) {
		errs = append(errs, fmt.Errorf("table %q: want a plain SQL identifier: lower-case letters, digits and _, at most 63", c.Table))
	}
	if c.User == "" {
		errs = append(errs, errors.New("user: must be set"))
	}
	if c.Database == "" {
		errs = append(errs, errors.New("database: must be set"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"opTimeout", c.OpTimeout}, {"resolveInterval", c.ResolveInterval}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", d.name, d.v))
		}
	}
	if c.GapThreshold < 0 {
		errs = append(errs, fmt.Errorf("gapThreshold %v: must not be negative", c.GapThreshold))
	}
	if c.Rate > 0 && c.GapThreshold > 0 && c.GapThreshold <= interval(c.Rate) {
		errs = append(errs, fmt.Errorf("gapThreshold %v: must be longer than the write interval %v, or every pause is a gap", c.GapThreshold, interval(c.Rate)))
	}
	return errors.Join(errs...)
}

// PrimaryName is the name writes resolve: primary.<svc>.<ns>.svc.<zone>.
func (c Config) PrimaryName() string { return "primary." + c.ServiceName() }

// ServiceName is the name reads resolve: <svc>.<ns>.svc.<zone>, every
// ready replica.
func (c Config) ServiceName() string {
	return c.Service + "." + c.Namespace + ".svc." + c.Zone
}

// gapThreshold is GapThreshold, or ten write intervals.
func (c Config) gapThreshold() time.Duration {
	if c.GapThreshold > 0 {
		return c.GapThreshold
	}
	return 10 * interval(c.Rate)
}

// interval is the time between two operations at rate a second.
func interval(rate float64) time.Duration {
	return time.Duration(float64(time.Second) / rate)
}

// validZone accepts fully qualified names of DNS labels.
func validZone(z string) bool {
	if len(z) < 2 || !strings.HasSuffix(z, ".") {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(z, "."), ".") {
		if !dnsserver.IsLabel(l) {
			return false
		}
	}
	return true
}

// validIdentifier accepts the identifiers PostgreSQL needs no quotes for,
// so that the table is named the same in psql.
func validIdentifier(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
