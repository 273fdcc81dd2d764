package failover

import "time"

// PhaseName names where the service stands in the failover protocol.
type PhaseName string

// Phases.
const (
	// Stable: the committed primary holds its lease.
	Stable PhaseName = "Stable"
	// PrimaryLost: the primary's lease expired; the detection grace runs,
	// or, in Manual mode, the machine waits for the operator.
	PrimaryLost PhaseName = "PrimaryLost"
	// NoCandidate: the primary is lost and no replica may be promoted; the
	// condition says why.
	NoCandidate PhaseName = "NoCandidate"
	// Promoting: the candidate's promotion is being committed (Committed
	// false) or carried out by its agent (Committed true).
	Promoting PhaseName = "Promoting"
	// SwitchingOver: a planned switchover demotes the primary and waits
	// for the target to replay its final position.
	SwitchingOver PhaseName = "SwitchingOver"
)

// SwitchStep is where a switchover stands.
type SwitchStep string

// Switchover steps, in order.
const (
	// Demoting: the primary was told to demote and report its final
	// position.
	Demoting SwitchStep = "Demoting"
	// CatchingUp: the target replays up to the final position.
	CatchingUp SwitchStep = "CatchingUp"
)

// Cause says why the primary changes; it becomes the Reason of the
// failover record.
type Cause string

// Causes.
const (
	// CauseLeaseExpired: the primary's lease expired.
	CauseLeaseExpired Cause = "LeaseExpired"
	// CauseManual: an operator asked for the failover.
	CauseManual Cause = "Manual"
	// CauseSwitchover: a planned switchover.
	CauseSwitchover Cause = "Switchover"
	// CauseSwitchoverAborted: a switchover that could not finish left the
	// primary demoted.
	CauseSwitchoverAborted Cause = "SwitchoverAborted"
	// CausePromotionFailed: a committed primary did not confirm its
	// promotion in time.
	CausePromotionFailed Cause = "PromotionFailed"
	// CauseAdopted: a promotion this state did not start, learned from
	// etcd (another hub leader committed it).
	CauseAdopted Cause = "Adopted"
	// CauseBootstrap: the service's first primary (Bootstrap).
	CauseBootstrap Cause = "Bootstrap"
)

// Phase is where the service stands, with what the phase needs to resume.
// Fields a phase does not use stay zero.
type Phase struct {
	// Name of the phase.
	Name PhaseName `json:"name"`
	// Cause of the change of primary under way.
	Cause Cause `json:"cause,omitempty"`
	// Note says in words why the change began, for the condition.
	Note string `json:"note,omitempty"`
	// Since is when the change began: the lease expiry, the request or the
	// abort of a switchover.
	Since time.Time `json:"since,omitzero"`
	// StepAt is when the step with a timeout began: the demotion request
	// or the commit.
	StepAt time.Time `json:"stepAt,omitzero"`
	// From is the primary being replaced; empty for a service that never
	// had one.
	From string `json:"from,omitempty"`
	// Candidate is the replica being promoted, or the switchover's target.
	Candidate string `json:"candidate,omitempty"`
	// Epoch is the epoch the candidate is promoted in (Promoting).
	Epoch uint64 `json:"epoch,omitempty"`
	// Committed is true once etcd holds the promotion (Promoting).
	Committed bool `json:"committed,omitempty"`
	// Step of a switchover.
	Step SwitchStep `json:"step,omitempty"`
	// Final is the old primary's final position, the demotion token, when
	// FinalKnown.
	Final uint64 `json:"final,omitempty"`
	// FinalKnown is true once the old primary reported its final position.
	FinalKnown bool `json:"finalKnown,omitempty"`
	// FencedAt is when the old primary was known to be read-only: the
	// lease expiry or the confirmed demotion.
	FencedAt time.Time `json:"fencedAt,omitzero"`
	// LossBytes is the data the promotion is estimated to lose.
	LossBytes uint64 `json:"lossBytes,omitempty"`
	// Requested is true when an operator asked for the promotion; its
	// record's cause is then Manual.
	Requested bool `json:"requested,omitempty"`
	// AcceptedDataLoss is true when an operator accepted losing data.
	AcceptedDataLoss bool `json:"acceptedDataLoss,omitempty"`
}

// Record describes one change of primary, for the status's failover
// history. Times the executor has not reported yet are zero.
type Record struct {
	// Epoch the new primary was committed in.
	Epoch uint64 `json:"epoch"`
	// Cause of the change.
	Cause Cause `json:"cause"`
	// From is the old primary; empty for a service's first primary.
	From string `json:"from,omitempty"`
	// To is the new primary.
	To string `json:"to"`
	// DetectedAt is when the change began (lease expiry or request).
	DetectedAt time.Time `json:"detectedAt,omitzero"`
	// FencedAt is when the old primary was known to be read-only.
	FencedAt time.Time `json:"fencedAt,omitzero"`
	// CommittedAt is when etcd held the new epoch.
	CommittedAt time.Time `json:"committedAt,omitzero"`
	// PromotedAt is when the new primary's agent confirmed the promotion.
	PromotedAt time.Time `json:"promotedAt,omitzero"`
	// PublishedAt is when DNS served the new primary.
	PublishedAt time.Time `json:"publishedAt,omitzero"`
	// DataLossBytes estimates the data lost: the primary's last known
	// position minus the new primary's position at the decision. It is a
	// lower bound: what the old primary wrote after its last report is
	// unknown until it returns (MeasuredLossBytes).
	DataLossBytes uint64 `json:"dataLossBytes"`
	// MeasuredLossBytes is the log the old primary held beyond the new
	// primary's history, measured by its agent when it returned, before
	// rewinding it; valid once LossMeasuredAt is set.
	MeasuredLossBytes uint64 `json:"measuredLossBytes,omitempty"`
	// LostTransactions is how many transactions that log committed: the
	// acknowledged transactions the change of primary lost.
	LostTransactions uint64 `json:"lostTransactions,omitempty"`
	// LossMeasuredAt is when the measurement arrived; zero until the old
	// primary returns and is repaired.
	LossMeasuredAt time.Time `json:"lossMeasuredAt,omitzero"`
	// AcceptedDataLoss is true when an operator accepted the loss.
	AcceptedDataLoss bool `json:"acceptedDataLoss,omitempty"`
}

// RTO is the time from detection to the new primary being published, or
// promoted when publication was not reported; zero while unknown.
func (r Record) RTO() time.Duration {
	end := r.PublishedAt
	if end.IsZero() {
		end = r.PromotedAt
	}
	if end.IsZero() || r.DetectedAt.IsZero() || end.Before(r.DetectedAt) {
		return 0
	}
	return end.Sub(r.DetectedAt)
}
