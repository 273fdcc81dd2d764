package members

import (
	"time"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// verdict is what the registry concludes about a member from its probes.
type verdict int

const (
	// pending: connected, no success yet and fewer failures than the
	// threshold.
	pending verdict = iota
	// healthy: the last probe answered /readyz with 200.
	healthy
	// notReady: the API server answered, but /readyz failed threshold
	// times in a row.
	notReady
	// unreachable: threshold probes in a row failed, the last without an
	// answer from the API server.
	unreachable
)

// probeResult is the outcome of one /readyz probe.
type probeResult struct {
	// At is when the probe started.
	At time.Time
	// Reached is true when the API server answered, whatever the status.
	Reached bool
	// Ready is true when it answered 200.
	Ready bool
	// Err says why the probe failed; nil when Ready.
	Err error
}

// health is an immutable snapshot of what the registry knows about a
// member. Methods that change it return a copy.
type health struct {
	Verdict verdict
	// Failures counts consecutive failed probes.
	Failures int
	// LastErr is the error of the last failed probe; nil after a success.
	LastErr error
	// LastProbe is when the last probe started; zero before the first.
	LastProbe time.Time
	// Capacity is the latest capacity summary; nil before the first.
	Capacity *v1alpha1.ClusterCapacity
	// Version is the member API server's version, read at VersionAt.
	Version   string
	VersionAt time.Time
}

// observe folds one probe result into h. A single success makes a member
// healthy; threshold consecutive failures make it notReady or unreachable;
// fewer failures keep the previous verdict.
func (h health) observe(res probeResult, threshold int) health {
	h.LastProbe = res.At
	if res.Ready {
		h.Verdict, h.Failures, h.LastErr = healthy, 0, nil
		return h
	}
	h.Failures++
	h.LastErr = res.Err
	if h.Failures >= threshold {
		h.Verdict = unreachable
		if res.Reached {
			h.Verdict = notReady
		}
	}
	return h
}

// reachable reports whether the verdict says the API server answers.
func (h health) reachable() bool {
	return h.Verdict == healthy || h.Verdict == notReady
}
