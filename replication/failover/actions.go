package failover

import "fmt"

// Action is something Step asks the executor to do. Every action that acts
// on a replica or on etcd carries the epoch it is valid for, so executing
// it again, or after a newer epoch was committed, is harmless: agents and
// etcd guards compare the epoch. Agent commands are level-triggered: the
// executor keeps the latest command per replica where its agent reads it,
// so an unreachable agent acts on it when it returns.
type Action interface {
	fmt.Stringer
	action()
}

// CommitPromotion asks for the one etcd transaction of a promotion, guarded
// by the stored epoch being OldEpoch and by no primary lease being held: it
// writes NewEpoch, Candidate as the primary and the DNS primary records.
// The executor reports PromotionCommitted, or CommitFailed with what etcd
// holds.
type CommitPromotion struct {
	Candidate string
	OldEpoch  uint64
	NewEpoch  uint64
}

// Promote tells Replica's agent to promote it, as the primary of Epoch; the
// agent opens writes only while it holds the primary lease for Epoch and
// confirms with Promoted.
type Promote struct {
	Replica string
	Epoch   uint64
}

// Follow tells Replica's agent to replicate from Primary, the primary of
// Epoch. A driver that finds its history forked before its own position
// rewinds first.
type Follow struct {
	Replica string
	Primary string
	Epoch   uint64
}

// Rewind tells Replica's agent to discard the log that is not in the
// history of Epoch (pg_rewind, or a fresh clone when rewinding fails) and
// rejoin as a follower of Primary.
type Rewind struct {
	Replica string
	Primary string
	Epoch   uint64
}

// Fence tells Replica's agent to keep the replica read-only: it is not the
// primary of Epoch or of any earlier epoch.
type Fence struct {
	Replica string
	Epoch   uint64
}

// Demote tells the agent of Replica, primary in Epoch, to stop writes,
// release the lease and report its final position with Demoted.
type Demote struct {
	Replica string
	Epoch   uint64
}

// WaitReplay tells Replica's agent to report its position once it replayed
// up to Position, the final position of the primary of Epoch.
type WaitReplay struct {
	Replica  string
	Position uint64
	Epoch    uint64
}

// SetCondition asks the executor to publish the service's FailingOver
// condition.
type SetCondition struct {
	Condition Condition
}

// RecordFailover asks the executor to write or update, keyed by its epoch,
// the failover record in the service's status.
type RecordFailover struct {
	Record Record
}

// RequestKind names an operator request.
type RequestKind string

// Requests an operator can make.
const (
	RequestSwitchover RequestKind = "Switchover"
	RequestFailover   RequestKind = "Failover"
)

// RefuseRequest tells the executor to answer a request with a refusal and
// the reason.
type RefuseRequest struct {
	Request RequestKind
	Reason  string
}

func (CommitPromotion) action() {}
func (Promote) action()         {}
func (Follow) action()          {}
func (Rewind) action()          {}
func (Fence) action()           {}
func (Demote) action()          {}
func (WaitReplay) action()      {}
func (SetCondition) action()    {}
func (RecordFailover) action()  {}
func (RefuseRequest) action()   {}

// String renders the action on one line.
func (a CommitPromotion) String() string {
	return fmt.Sprintf("CommitPromotion %s epoch %d->%d", a.Candidate, a.OldEpoch, a.NewEpoch)
}

// String renders the action on one line.
func (a Promote) String() string { return fmt.Sprintf("Promote %s epoch %d", a.Replica, a.Epoch) }

// String renders the action on one line.
func (a Follow) String() string {
	return fmt.Sprintf("Follow %s -> %s epoch %d", a.Replica, a.Primary, a.Epoch)
}

// String renders the action on one line.
func (a Rewind) String() string {
	return fmt.Sprintf("Rewind %s -> %s epoch %d", a.Replica, a.Primary, a.Epoch)
}

// String renders the action on one line.
func (a Fence) String() string { return fmt.Sprintf("Fence %s epoch %d", a.Replica, a.Epoch) }

// String renders the action on one line.
func (a Demote) String() string { return fmt.Sprintf("Demote %s epoch %d", a.Replica, a.Epoch) }

// String renders the action on one line.
func (a WaitReplay) String() string {
	return fmt.Sprintf("WaitReplay %s to %d epoch %d", a.Replica, a.Position, a.Epoch)
}

// String renders the action on one line.
func (a SetCondition) String() string {
	c := a.Condition
	return fmt.Sprintf("SetCondition %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
}

// String renders the action on one line.
func (a RecordFailover) String() string {
	r := a.Record
	return fmt.Sprintf("RecordFailover epoch %d %s %s->%s loss %d", r.Epoch, r.Cause, r.From, r.To, r.DataLossBytes)
}

// String renders the action on one line.
func (a RefuseRequest) String() string {
	return fmt.Sprintf("Refuse%s: %s", a.Request, a.Reason)
}
