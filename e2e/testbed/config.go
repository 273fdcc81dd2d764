package testbed

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// HubName is the name of the hub cluster in every test bed.
const HubName = "hub"

// MemberSpec describes one member cluster of the bed.
type MemberSpec struct {
	// Name of the cluster: a DNS label, also used for its kubeconfig
	// context.
	Name string `json:"name"`
	// Region label (topology.kubernetes.io/region) of the member's nodes.
	Region string `json:"region"`
	// Zone label (topology.kubernetes.io/zone) of the member's nodes.
	Zone string `json:"zone"`
}

// Config configures a test bed.
type Config struct {
	// Binaries are the programs to run, from Build or CachedBinaries.
	Binaries Binaries
	// StateDir holds etcd's data, certificates, kubeconfigs, logs and the
	// state file; Close removes it.
	StateDir string
	// Members are the member clusters; none gives a hub-only bed.
	Members []MemberSpec
	// NodesPerMember is the number of kwok fake nodes per member.
	NodesPerMember int
	// VolumesPerMember is the number of hostPath PersistentVolumes created
	// in each member for the default StorageClass.
	VolumesPerMember int
	// Detach lets the processes outlive the caller (fedctl testbed up);
	// otherwise they die with it.
	Detach bool
	// ReadyTimeout bounds the wait for each API server and member node to
	// become ready.
	ReadyTimeout time.Duration
	// StopTimeout is how long a process gets after SIGTERM before SIGKILL.
	StopTimeout time.Duration
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// DefaultMembers are three members in three regions, one zone each.
func DefaultMembers() []MemberSpec {
	return []MemberSpec{
		{Name: "eu-1", Region: "eu-west", Zone: "eu-west-a"},
		{Name: "us-1", Region: "us-east", Zone: "us-east-a"},
		{Name: "ap-1", Region: "ap-south", Zone: "ap-south-a"},
	}
}

// DefaultConfig is a hub and the three DefaultMembers; set Binaries and
// StateDir before Start.
func DefaultConfig() Config {
	return Config{
		Members: DefaultMembers(),
		// A fake node takes 110 pods: enough for the tests (make bench-hub
		// adds nodes).
		NodesPerMember: 1,
		// Enough volumes for a 5-replica service with two claims each
		// landing mostly in one member.
		VolumesPerMember: 10,
		// A cold kube-apiserver is ready in 6-13 s on two cores; two
		// minutes leaves room for a loaded CI machine.
		ReadyTimeout: 2 * time.Minute,
		// The control-plane programs shut down within a second or two on
		// SIGTERM.
		StopTimeout: 10 * time.Second,
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// maxMembers keeps pod CIDRs (127.<11+i>.0.0/16) inside 127.0.0.0/8.
const maxMembers = 200

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.StateDir == "" {
		bad("StateDir", "must be set")
	}
	if c.Binaries.KubeAPIServer == "" || c.Binaries.Etcd == "" {
		bad("Binaries", "must be set (use Build or CachedBinaries)")
	}
	if len(c.Members) > maxMembers {
		bad("Members", "at most %d, got %d", maxMembers, len(c.Members))
	}
	seen := map[string]bool{HubName: true}
	for i, m := range c.Members {
		if !dnsLabel.MatchString(m.Name) || len(m.Name) > 63 {
			bad(fmt.Sprintf("Members[%d].Name", i), "%q is not a DNS label", m.Name)
		}
		if seen[m.Name] {
			bad(fmt.Sprintf("Members[%d].Name", i), "%q is used twice (or is the hub's name)", m.Name)
		}
		seen[m.Name] = true
		if m.Region == "" {
			bad(fmt.Sprintf("Members[%d].Region", i), "must be set")
		}
	}
	if len(c.Members) > 0 && c.NodesPerMember < 1 {
		bad("NodesPerMember", "must be at least 1, got %d", c.NodesPerMember)
	}
	if c.VolumesPerMember < 0 {
		bad("VolumesPerMember", "must not be negative, got %d", c.VolumesPerMember)
	}
	if c.ReadyTimeout <= 0 {
		bad("ReadyTimeout", "must be positive, got %s", c.ReadyTimeout)
	}
	if c.StopTimeout <= 0 {
		bad("StopTimeout", "must be positive, got %s", c.StopTimeout)
	}
	return errors.Join(errs...)
}
