package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"sigs.k8s.io/yaml"
)

// Hub configures fedstate hub: its endpoints, leader election, the member
// registry, the FederatedStatefulSet controller, the failover coordinator
// the gossip pool and the drills.
type Hub struct {
	// MetricsAddress is the IP:port of /metrics; empty disables it.
	MetricsAddress string `json:"metricsAddress"`
	// HealthAddress is the IP:port of /healthz and /readyz; empty
	// disables them.
	HealthAddress string `json:"healthAddress"`
	// QPS is the sustained rate, in requests per second, of the hub's
	// client of the hub cluster's API server.
	QPS float32 `json:"qps"`
	// Burst is how many requests that client may send above QPS at once.
	Burst int `json:"burst"`
	// LeaderElection lets several hub replicas run with one writing.
	LeaderElection LeaderElection `json:"leaderElection"`
	// Members configures the member-cluster registry.
	Members Members `json:"members"`
	// Services configures the FederatedStatefulSet controller.
	Services Services `json:"services"`
	// Failover configures the failover coordinator, the federation etcd
	// and DNS publishing.
	Failover Failover `json:"failover"`
	// Gossip configures the hub replica's node in the gossip pool.
	Gossip Gossip `json:"gossip"`
	// Drills configures the FailoverDrill controller.
	Drills Drills `json:"drills"`
}

// LeaderElection configures the hub's leader election on a Lease in the
// hub cluster.
type LeaderElection struct {
	// Enabled turns leader election on; only the leader writes.
	Enabled bool `json:"enabled"`
	// Namespace and Name of the Lease.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// LeaseDuration is how long followers wait before taking over a
	// lease that is not renewed.
	LeaseDuration time.Duration `json:"leaseDuration"`
	// RenewDeadline is how long the leader keeps trying to renew before
	// it gives up leading; shorter than LeaseDuration.
	RenewDeadline time.Duration `json:"renewDeadline"`
	// RetryPeriod is the pause between attempts to acquire or renew.
	RetryPeriod time.Duration `json:"retryPeriod"`
}

// Services configures the FederatedStatefulSet controller.
type Services struct {
	// Workers is how many services are reconciled at once.
	Workers int `json:"workers"`
	// ReconcileTimeout bounds one reconcile of one service, every call to
	// the hub and the members included.
	ReconcileTimeout time.Duration `json:"reconcileTimeout"`
	// DeletionTimeout is how long deleting a service waits for an
	// unreachable member before recording what it leaves there.
	DeletionTimeout time.Duration `json:"deletionTimeout"`
}

// DefaultHub is the hub configuration used unless a file or flags say
// otherwise.
func DefaultHub() Hub {
	return Hub{
		// Loopback: exposing metrics and health beyond the host is a
		// deployment decision, not a default.
		MetricsAddress: "127.0.0.1:8080",
		HealthAddress:  "127.0.0.1:8081",
		// Every reconcile reads its service live and may write its
		// status: 1,000 services converging means a few thousand
		// requests; controller-runtime's 20/s would stretch that over
		// minutes.
		QPS:   200,
		Burst: 400,
		LeaderElection: LeaderElection{
			// On: two hubs started by mistake must not both write.
			Enabled:   true,
			Namespace: "fedstate-system",
			Name:      "fedstate-hub",
			// client-go's recommended values: a new leader within about
			// 15 s of a crash, without flapping on a slow API server.
			LeaseDuration: 15 * time.Second,
			RenewDeadline: 10 * time.Second,
			RetryPeriod:   2 * time.Second,
		},
		Members: DefaultMembers(),
		Services: Services{
			// Reconciles mostly wait on member API servers, not on the
			// hub's CPU: sixteen keep those servers busy without queueing
			// more requests than two cores serve (see bench-hub in
			// docs/benchmarks.md).
			Workers: 16,
			// A reconcile makes a few requests per member; 30 s covers a
			// slow member without letting a hung one hold a worker.
			ReconcileTimeout: 30 * time.Second,
			// Five minutes outlast a member API server restart or a
			// short network cut; a longer outage should not keep a
			// deleted service around.
			DeletionTimeout: 5 * time.Minute,
		},
		Failover: DefaultFailover(),
		Gossip:   DefaultGossip(),
		Drills:   DefaultDrills(),
	}
}

// Validate reports every bad field at once, named by its path in the file.
func (h Hub) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	for field, addr := range map[string]string{"metricsAddress": h.MetricsAddress, "healthAddress": h.HealthAddress} {
		if addr == "" {
			continue
		}
		if _, err := netip.ParseAddrPort(addr); err != nil {
			bad(field, "want IP:port, got %q", addr)
		}
	}
	if h.QPS <= 0 {
		bad("qps", "must be > 0, got %g", h.QPS)
	}
	if h.Burst < 1 {
		bad("burst", "must be >= 1, got %d", h.Burst)
	}
	if le := h.LeaderElection; le.Enabled {
		if le.Namespace == "" {
			bad("leaderElection.namespace", "required when leader election is enabled")
		}
		if le.Name == "" {
			bad("leaderElection.name", "required when leader election is enabled")
		}
		if le.RetryPeriod <= 0 {
			bad("leaderElection.retryPeriod", "must be > 0, got %s", le.RetryPeriod)
		}
		if le.RenewDeadline <= le.RetryPeriod {
			bad("leaderElection.renewDeadline", "must be > retryPeriod (%s), got %s", le.RetryPeriod, le.RenewDeadline)
		}
		if le.LeaseDuration <= le.RenewDeadline {
			bad("leaderElection.leaseDuration", "must be > renewDeadline (%s), got %s", le.RenewDeadline, le.LeaseDuration)
		}
	}
	if err := h.Members.Validate(); err != nil {
		errs = append(errs, err)
	}
	s := h.Services
	if s.Workers < 1 {
		bad("services.workers", "must be >= 1, got %d", s.Workers)
	}
	if s.ReconcileTimeout <= 0 {
		bad("services.reconcileTimeout", "must be > 0, got %s", s.ReconcileTimeout)
	}
	if s.DeletionTimeout <= 0 {
		bad("services.deletionTimeout", "must be > 0, got %s", s.DeletionTimeout)
	}
	if err := h.Failover.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := h.Gossip.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := h.Drills.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// LoadHub reads a hub configuration file (YAML or JSON) over the defaults:
// fields the file leaves out keep their default. Unknown fields are
// errors. The result is not validated; call Validate after applying flags.
func LoadHub(path string) (Hub, error) {
	h := DefaultHub()
	raw, err := os.ReadFile(path)
	if err != nil {
		return h, fmt.Errorf("read hub configuration: %w", err)
	}
	if err := ParseHub(raw, &h); err != nil {
		return h, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// ParseHub decodes a hub configuration (YAML or JSON) into h, keeping the
// fields it leaves out.
func ParseHub(raw []byte, h *Hub) error {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if string(js) == "null" {
		return nil
	}
	return decodeStrict(js, h)
}

// UnmarshalJSON reads durations as Go duration strings ("15s"), rejects
// unknown fields and keeps the fields data leaves out.
func (h *Hub) UnmarshalJSON(data []byte) error {
	var in struct {
		MetricsAddress *string         `json:"metricsAddress"`
		HealthAddress  *string         `json:"healthAddress"`
		QPS            *float32        `json:"qps"`
		Burst          *int            `json:"burst"`
		LeaderElection json.RawMessage `json:"leaderElection"`
		Members        json.RawMessage `json:"members"`
		Services       json.RawMessage `json:"services"`
		Failover       json.RawMessage `json:"failover"`
		Gossip         json.RawMessage `json:"gossip"`
		Drills         json.RawMessage `json:"drills"`
	}
	if err := decodeStrict(data, &in); err != nil {
		return err
	}
	set(&h.MetricsAddress, in.MetricsAddress)
	set(&h.HealthAddress, in.HealthAddress)
	set(&h.QPS, in.QPS)
	set(&h.Burst, in.Burst)
	var errs []error
	if in.LeaderElection != nil {
		var le struct {
			Enabled       *bool   `json:"enabled"`
			Namespace     *string `json:"namespace"`
			Name          *string `json:"name"`
			LeaseDuration *string `json:"leaseDuration"`
			RenewDeadline *string `json:"renewDeadline"`
			RetryPeriod   *string `json:"retryPeriod"`
		}
		if err := decodeStrict(in.LeaderElection, &le); err != nil {
			errs = append(errs, fmt.Errorf("leaderElection: %w", err))
		}
		l := &h.LeaderElection
		set(&l.Enabled, le.Enabled)
		set(&l.Namespace, le.Namespace)
		set(&l.Name, le.Name)
		errs = append(errs,
			duration("leaderElection.leaseDuration", le.LeaseDuration, &l.LeaseDuration),
			duration("leaderElection.renewDeadline", le.RenewDeadline, &l.RenewDeadline),
			duration("leaderElection.retryPeriod", le.RetryPeriod, &l.RetryPeriod))
	}
	if in.Members != nil {
		errs = append(errs, json.Unmarshal(in.Members, &h.Members))
	}
	if in.Services != nil {
		var s struct {
			Workers          *int    `json:"workers"`
			ReconcileTimeout *string `json:"reconcileTimeout"`
			DeletionTimeout  *string `json:"deletionTimeout"`
		}
		if err := decodeStrict(in.Services, &s); err != nil {
			errs = append(errs, fmt.Errorf("services: %w", err))
		}
		set(&h.Services.Workers, s.Workers)
		errs = append(errs,
			duration("services.reconcileTimeout", s.ReconcileTimeout, &h.Services.ReconcileTimeout),
			duration("services.deletionTimeout", s.DeletionTimeout, &h.Services.DeletionTimeout))
	}
	if in.Failover != nil {
		errs = append(errs, json.Unmarshal(in.Failover, &h.Failover))
	}
	if in.Gossip != nil {
		errs = append(errs, json.Unmarshal(in.Gossip, &h.Gossip))
	}
	if in.Drills != nil {
		var d struct {
			ReportDir *string `json:"reportDir"`
		}
		if err := decodeStrict(in.Drills, &d); err != nil {
			errs = append(errs, fmt.Errorf("drills: %w", err))
		}
		set(&h.Drills.ReportDir, d.ReportDir)
	}
	return errors.Join(errs...)
}

func set[T any](into *T, v *T) {
	if v != nil {
		*into = *v
	}
}

func duration(field string, s *string, into *time.Duration) error {
	if s == nil {
		return nil
	}
	d, err := time.ParseDuration(*s)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	*into = d
	return nil
}
