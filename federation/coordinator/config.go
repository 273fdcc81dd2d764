package coordinator

import (
	"errors"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"
)

// Config configures the Coordinator.
type Config struct {
	// ID names this hub replica in the federation etcd's leader election;
	// it shows in the election key's value.
	ID string
	// DNSPrefix is the etcd prefix of the DNS records, as the DNS servers
	// read them (dnsserver.WriterConfig.Prefix).
	DNSPrefix string
	// TickInterval is how often each service's timers (detection grace,
	// step timeouts) are checked and its status and DNS records compared
	// with what they should be.
	TickInterval time.Duration
	// StepTimeout is how long an agent may take to confirm a demotion or
	// a committed promotion before the coordinator gives up on it; zero
	// waits forever.
	StepTimeout time.Duration
	// SaveInterval is how often a state whose only changes are replication
	// positions is stored; any other change is stored at once.
	SaveInterval time.Duration
	// RetryInterval is the pause before a service's coordination, or a
	// campaign for the leadership, is tried again after an error.
	RetryInterval time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		// The host name says which hub leads; the suffix keeps two hubs on
		// one host apart.
		ID:        host + "-" + rand.String(5),
		DNSPrefix: "/fedstate/dns/",
		// One second: the detection grace and RPO times are given in
		// seconds, and a status a second old is fresh enough to read.
		TickInterval: time.Second,
		// Two minutes: a PostgreSQL promotion takes seconds, but a demotion
		// waits for a checkpoint that may take a minute on a busy primary.
		StepTimeout: 2 * time.Minute,
		// Five seconds: positions arrive every report interval; storing
		// each would write etcd once per replica per second. A new leader
		// reads fresh reports anyway; only the head of a primary that died
		// meanwhile may be up to this old.
		SaveInterval: 5 * time.Second,
		// One second: a broken watch or an etcd hiccup is retried quickly,
		// without spinning.
		RetryInterval: time.Second,
	}
}

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("id: must be set"))
	}
	if len(c.DNSPrefix) < 2 || c.DNSPrefix[0] != '/' || c.DNSPrefix[len(c.DNSPrefix)-1] != '/' {
		errs = append(errs, fmt.Errorf("dnsPrefix %q: must start and end with / and not be /", c.DNSPrefix))
	}
	for field, d := range map[string]time.Duration{"tickInterval": c.TickInterval, "saveInterval": c.SaveInterval, "retryInterval": c.RetryInterval} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", field, d))
		}
	}
	if c.StepTimeout < 0 {
		errs = append(errs, fmt.Errorf("stepTimeout %v: must not be negative", c.StepTimeout))
	}
	return errors.Join(errs...)
}

// now reads the clock.
func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
