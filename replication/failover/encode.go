package failover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// FormatVersion is the version of the stored form Encode writes.
const FormatVersion = 1

// ErrInvalidState is wrapped by every error Validate and Decode return for
// a state the machine must not run on.
var ErrInvalidState = errors.New("failover: invalid state")

// stored is the stored form: the state's fields beside the format version.
type stored struct {
	Version int `json:"version"`
	State
}

// Encode returns the stored form of s: JSON with explicit field names,
// the same bytes for equal states. It refuses a state that fails Validate.
func Encode(s State) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(stored{Version: FormatVersion, State: s})
}

// Decode reads a stored state. Unknown fields, trailing data, another
// format version and states that fail Validate are errors: a hub never
// runs the failover machine on a state it does not fully understand.
func Decode(data []byte) (State, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st stored
	if err := dec.Decode(&st); err != nil {
		return State{}, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return State{}, fmt.Errorf("%w: data after the state", ErrInvalidState)
	}
	if st.Version != FormatVersion {
		return State{}, fmt.Errorf("%w: format version %d, want %d", ErrInvalidState, st.Version, FormatVersion)
	}
	if err := st.State.Validate(); err != nil {
		return State{}, err
	}
	return st.State, nil
}

// Validate reports every inconsistency in s that Step relies on not
// finding, at once. Step keeps a valid state valid.
func (s State) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	p := s.Policy
	if p.Mode != Automatic && p.Mode != Manual {
		bad("policy.mode %q: want Automatic or Manual", p.Mode)
	}
	switch p.SyncScope {
	case "", SyncAny, SyncSameRegion, SyncOtherRegion:
	default:
		bad("policy.syncScope %q: want Any, SameRegion or OtherRegion", p.SyncScope)
	}
	if p.SyncReplicas < 0 {
		bad("policy.syncReplicas %d: must not be negative", p.SyncReplicas)
	}
	if p.DetectionGrace < 0 || p.StepTimeout < 0 || (p.RPO != nil && p.RPO.MaxLag != nil && *p.RPO.MaxLag < 0) {
		bad("policy: durations must not be negative")
	}
	if s.Epoch >= math.MaxInt64 {
		bad("epoch %d: must stay below 2^63-1, as the API's int64", s.Epoch)
	}
	names := map[string]bool{}
	for i, r := range s.Replicas {
		switch {
		case r.Name == "":
			bad("replicas[%d]: empty name", i)
		case names[r.Name]:
			bad("replicas[%d]: %s listed twice", i, r.Name)
		case i > 0 && !nameLess(s.Replicas[i-1].Name, r.Name):
			bad("replicas[%d]: %s out of name order", i, r.Name)
		}
		names[r.Name] = true
	}
	if s.Primary != "" && !names[s.Primary] {
		bad("primary %s: not a replica", s.Primary)
	}
	if !slices.IsSorted(s.Allowed) || len(slices.Compact(slices.Clone(s.Allowed))) != len(s.Allowed) {
		bad("allowed: must be sorted without duplicates")
	}
	if len(s.Marks) > maxMarks || len(s.History) > MaxHistory {
		bad("at most %d marks and %d history records", maxMarks, MaxHistory)
	}
	errs = append(errs, s.validatePhase(names)...)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidState, errors.Join(errs...))
}

// validatePhase checks that the phase agrees with the epoch, the primary
// and the replicas.
func (s State) validatePhase(names map[string]bool) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	ph := s.Phase
	if ph.From != "" && !names[ph.From] {
		bad("phase.from %s: not a replica", ph.From)
	}
	switch ph.Name {
	case Stable:
		if s.Primary == "" {
			bad("phase Stable without a primary")
		}
	case PrimaryLost, NoCandidate:
	case Promoting:
		switch {
		case !names[ph.Candidate]:
			bad("phase.candidate %q: not a replica", ph.Candidate)
		case ph.Committed && (ph.Epoch != s.Epoch || ph.Candidate != s.Primary):
			bad("phase: committed promotion of %s in epoch %d, but etcd's primary is %s in epoch %d", ph.Candidate, ph.Epoch, s.Primary, s.Epoch)
		case !ph.Committed && ph.Epoch != s.Epoch+1:
			bad("phase: promotion to epoch %d from epoch %d", ph.Epoch, s.Epoch)
		}
	case SwitchingOver:
		switch {
		case ph.Step != Demoting && ph.Step != CatchingUp:
			bad("phase.step %q: want Demoting or CatchingUp", ph.Step)
		case s.Primary == "" || ph.From != s.Primary:
			bad("phase: switchover from %q, but the primary is %q", ph.From, s.Primary)
		case !names[ph.Candidate] || ph.Candidate == s.Primary:
			bad("phase.candidate %q: not a replica other than the primary", ph.Candidate)
		}
	default:
		bad("phase.name %q: unknown", ph.Name)
	}
	return errs
}
