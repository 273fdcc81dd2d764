package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Members configures the hub's member-cluster registry: how it probes the
// health of each member and how fast it may talk to each member's API
// server.
type Members struct {
	// ProbeInterval is how often the hub probes /readyz of each member.
	ProbeInterval time.Duration `json:"probeInterval" yaml:"probeInterval"`
	// ProbeTimeout bounds one probe; it must be shorter than ProbeInterval.
	ProbeTimeout time.Duration `json:"probeTimeout" yaml:"probeTimeout"`
	// FailureThreshold is the number of consecutive failed probes after
	// which a member is reported unreachable (or not ready).
	FailureThreshold int `json:"failureThreshold" yaml:"failureThreshold"`
	// QPS is the sustained rate, in requests per second, of each member's
	// client (client-go's rate limiter).
	QPS float32 `json:"qps" yaml:"qps"`
	// Burst is the number of requests each member's client may send above
	// QPS in a burst.
	Burst int `json:"burst" yaml:"burst"`
}

// DefaultMembers is the registry configuration the hub uses unless told
// otherwise.
func DefaultMembers() Members {
	return Members{
		// A /readyz GET every 10 s costs each member almost nothing and,
		// with the threshold below, notices an outage within about 30 s —
		// the cadence KubeFed and Karmada settled on for cluster health.
		ProbeInterval: 10 * time.Second,
		// A healthy API server answers /readyz in milliseconds, even over
		// a WAN; 3 s tolerates a loaded server and an intercontinental
		// round trip without letting a hung connection stall the next
		// probe.
		ProbeTimeout: 3 * time.Second,
		// One lost probe (a GC pause, a dropped packet, a rolling restart
		// of the member's API server) must not mark a member unreachable;
		// three in a row is a real outage.
		FailureThreshold: 3,
		// Applying 1,000 services means about 3,000 writes (StatefulSet,
		// Service, PodDisruptionBudget) in each member; at 200 requests/s
		// that takes 15 s, inside the hub's 30 s goal. client-go's default
		// of 5/s would take ten minutes.
		QPS: 200,
		// Twice QPS absorbs the burst of a resync or a reconnect without
		// queueing.
		Burst: 400,
	}
}

// Validate reports every bad field at once, each named by its path in the
// hub's configuration file.
func (m Members) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("members.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if m.ProbeInterval <= 0 {
		bad("probeInterval", "must be > 0, got %s", m.ProbeInterval)
	}
	if m.ProbeTimeout <= 0 || m.ProbeTimeout >= m.ProbeInterval {
		bad("probeTimeout", "must be > 0 and < probeInterval (%s), got %s", m.ProbeInterval, m.ProbeTimeout)
	}
	if m.FailureThreshold < 1 {
		bad("failureThreshold", "must be >= 1, got %d", m.FailureThreshold)
	}
	if m.QPS <= 0 {
		bad("qps", "must be > 0, got %g", m.QPS)
	}
	if m.Burst < 1 {
		bad("burst", "must be >= 1, got %d", m.Burst)
	}
	return errors.Join(errs...)
}

// membersJSON is Members as written in a file: durations as Go duration
// strings.
type membersJSON struct {
	ProbeInterval    string  `json:"probeInterval,omitempty"`
	ProbeTimeout     string  `json:"probeTimeout,omitempty"`
	FailureThreshold int     `json:"failureThreshold,omitempty"`
	QPS              float32 `json:"qps,omitempty"`
	Burst            int     `json:"burst,omitempty"`
}

// MarshalJSON writes the durations as Go duration strings ("10s").
func (m Members) MarshalJSON() ([]byte, error) {
	return json.Marshal(membersJSON{
		ProbeInterval:    m.ProbeInterval.String(),
		ProbeTimeout:     m.ProbeTimeout.String(),
		FailureThreshold: m.FailureThreshold,
		QPS:              m.QPS,
		Burst:            m.Burst,
	})
}

// UnmarshalJSON reads the durations as Go duration strings ("10s") and
// rejects unknown fields. Fields absent from data keep their value, so
// decoding into DefaultMembers() overrides only what the file sets.
func (m *Members) UnmarshalJSON(data []byte) error {
	var in struct {
		ProbeInterval    *string  `json:"probeInterval"`
		ProbeTimeout     *string  `json:"probeTimeout"`
		FailureThreshold *int     `json:"failureThreshold"`
		QPS              *float32 `json:"qps"`
		Burst            *int     `json:"burst"`
	}
	if err := decodeStrict(data, &in); err != nil {
		return fmt.Errorf("members: %w", err)
	}
	var errs []error
	duration := func(field string, s *string, into *time.Duration) {
		if s == nil {
			return
		}
		d, err := time.ParseDuration(*s)
		if err != nil {
			errs = append(errs, fmt.Errorf("members.%s: %w", field, err))
			return
		}
		*into = d
	}
	duration("probeInterval", in.ProbeInterval, &m.ProbeInterval)
	duration("probeTimeout", in.ProbeTimeout, &m.ProbeTimeout)
	if in.FailureThreshold != nil {
		m.FailureThreshold = *in.FailureThreshold
	}
	if in.QPS != nil {
		m.QPS = *in.QPS
	}
	if in.Burst != nil {
		m.Burst = *in.Burst
	}
	return errors.Join(errs...)
}
