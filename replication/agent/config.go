package agent

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fedstate/fedstate/dnsserver"
)

// Config configures an agent.
type Config struct {
	// Name is the agent's name in the federation etcd, a DNS-1123 label;
	// one agent per name. Empty means "agent-<Cluster>".
	Name string
	// Cluster is the member cluster the agent serves, as joined to the hub.
	Cluster string
	// Port is the port of every replica's server on its pod's address.
	Port uint16
	// VolumesDir holds the data of replicas whose pod has no persistent
	// volume with a local path: <VolumesDir>/<namespace>/<pod>.
	VolumesDir string
	// RunDir holds each replica's sockets, server log and fencing deadline:
	// <RunDir>/<namespace>.<pod>. Keep it short: Unix socket paths are
	// limited to 107 bytes.
	RunDir string
	// DNSPrefix is the etcd prefix of the DNS records the hub publishes,
	// where the agent finds the other replicas' addresses and regions.
	DNSPrefix string
	// ReportInterval is how often each replica's position is reported and
	// its state compared with its command.
	ReportInterval time.Duration
	// FenceTimeout bounds a fence; a server that does not fence in time is
	// stopped hard.
	FenceTimeout time.Duration
	// PrimaryGiveUp is how long a primary's server may fail to start or to
	// open for writes before the agent stops it and gives its lease up, so
	// that the hub promotes another replica; zero never gives up.
	PrimaryGiveUp time.Duration
	// Watchdog is the command line of the fence watchdog started beside a
	// primary, the deadline file's path appended; empty runs none. It stops
	// the primary's server hard if the agent stops renewing its deadline
	// (the agent was killed, paused or hung).
	Watchdog []string
}

// DefaultConfig returns the defaults for an agent of cluster.
func DefaultConfig(cluster string) Config {
	return Config{
		Cluster:        cluster,
		Port:           5432,
		VolumesDir:     "/var/lib/fedstate/volumes",
		RunDir:         "/run/fedstate",
		DNSPrefix:      dnsserver.DefaultPrefix,
		ReportInterval: time.Second,
		FenceTimeout:   time.Second,
		// Long enough for crash recovery of a busy server, short enough
		// that a server that cannot start costs a failover, not an outage.
		PrimaryGiveUp: 30 * time.Second,
	}
}

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !dnsserver.IsLabel(c.Cluster) {
		bad("cluster", "%q is not a DNS-1123 label", c.Cluster)
	}
	if c.Name != "" && !dnsserver.IsLabel(c.Name) {
		bad("name", "%q is not a DNS-1123 label", c.Name)
	}
	if c.Port == 0 {
		bad("port", "must be set")
	}
	if !filepath.IsAbs(c.VolumesDir) {
		bad("volumesDir", "%q is not an absolute path", c.VolumesDir)
	}
	if !filepath.IsAbs(c.RunDir) {
		bad("runDir", "%q is not an absolute path", c.RunDir)
	} else if len(c.RunDir) > 60 {
		bad("runDir", "%q is longer than 60 bytes; socket paths under it would pass the 107-byte limit", c.RunDir)
	}
	if err := dnsserver.ValidatePrefix(c.DNSPrefix); err != nil {
		bad("dnsPrefix", "%v", err)
	}
	if c.ReportInterval <= 0 {
		bad("reportInterval", "must be positive, got %v", c.ReportInterval)
	}
	if c.FenceTimeout <= 0 {
		bad("fenceTimeout", "must be positive, got %v", c.FenceTimeout)
	}
	if c.PrimaryGiveUp < 0 {
		bad("primaryGiveUp", "must be zero (never) or positive, got %v", c.PrimaryGiveUp)
	}
	return errors.Join(errs...)
}

// name is the agent's name, defaulted.
func (c Config) name() string {
	if c.Name != "" {
		return c.Name
	}
	return "agent-" + c.Cluster
}
