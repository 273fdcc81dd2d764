package failover

import (
	"fmt"
	"time"
)

// Step applies one event to the state of one service and returns the new
// state and the actions the executor must carry out, in order. It is
// deterministic, reads no clock (the event's At is now) and leaves s
// unchanged. Events that are stale (an older epoch, an older report) or
// re-delivered change nothing that matters; actions are safe to execute
// again because they carry their epoch.
func Step(s State, ev Event) (State, []Action) {
	if ev == nil {
		return s, nil
	}
	m := &machine{s: s.clone(), now: ev.at()}
	m.expire()
	resume := false
	switch e := ev.(type) {
	case LeaseExpired:
		m.leaseExpired(e)
	case LeaseRenewed:
		m.leaseRenewed(e)
	case PositionReported:
		m.positionReported(e)
	case ReplicaChanged:
		m.replicaChanged(e)
	case PlacementChanged:
		m.placementChanged(e)
	case SwitchoverRequested:
		m.switchoverRequested(e)
	case FailoverRequested:
		m.failoverRequested(e)
	case PromotionCommitted:
		m.committed(e.Epoch, e.Primary)
	case CommitFailed:
		m.commitFailed(e)
	case Promoted:
		m.promoted(e)
	case Demoted:
		m.demoted(e)
	case PrimaryReturned:
		m.primaryReturned(e.Replica, e.Epoch, e.Position)
	case LossMeasured:
		m.lossMeasured(e)
	case DNSPublished:
		m.dnsPublished(e)
	case Resume:
		resume = true
	}
	before := m.s.Phase
	m.settle()
	if resume && m.s.Phase == before {
		m.resume()
	}
	if c := m.s.condition(m.now); resume || c != m.s.Condition {
		m.s.Condition = c
		m.emit(SetCondition{Condition: c})
	}
	return m.s, m.acts
}

// machine is one Step in progress: the state being changed, now, and the
// actions so far.
type machine struct {
	s    State
	now  time.Time
	acts []Action
}

func (m *machine) emit(a ...Action) { m.acts = append(m.acts, a...) }

// lost says whether the phase is one where the primary is lost and no
// promotion is in flight.
func (ph Phase) lost() bool { return ph.Name == PrimaryLost || ph.Name == NoCandidate }

// expire applies the step timeouts before anything else happens, so that
// the event meets the phase as it stands at now.
func (m *machine) expire() {
	ph := m.s.Phase
	if m.s.Policy.StepTimeout <= 0 || m.now.Before(ph.StepAt.Add(m.s.Policy.StepTimeout)) {
		return
	}
	switch {
	case ph.Name == Promoting && ph.Committed:
		m.lose(CausePromotionFailed, fmt.Sprintf("%s, primary in epoch %d, did not confirm its promotion within %s", m.s.where(ph.Candidate), ph.Epoch, m.s.Policy.StepTimeout))
	case ph.Name == SwitchingOver && ph.Step == Demoting:
		m.abort(fmt.Sprintf("switchover to %s aborted: %s did not confirm its demotion within %s", m.s.where(ph.Candidate), m.s.where(ph.From), m.s.Policy.StepTimeout))
	}
}

// settle runs what the phase does by itself whenever anything happened:
// the switchover's progress, and the choice of a candidate while the
// primary is lost.
func (m *machine) settle() {
	if ph := m.s.Phase; ph.Name == SwitchingOver && ph.Step == CatchingUp {
		m.catchingUp()
	}
	if m.s.Phase.lost() {
		m.decide(nil)
	}
}

// lose marks the primary of the current epoch lost: it is fenced by now,
// since its agent fences it before its lease can expire.
func (m *machine) lose(cause Cause, note string) {
	m.s.Phase = Phase{Name: PrimaryLost, Cause: cause, Note: note, Since: m.now, From: m.s.Primary, FencedAt: m.now}
}

func (m *machine) leaseExpired(e LeaseExpired) {
	if e.Epoch != m.s.Epoch || m.s.Primary == "" {
		return
	}
	switch ph := m.s.Phase; {
	case ph.Name == Stable:
		m.lose(CauseLeaseExpired, fmt.Sprintf("primary %s lost its lease", m.s.where(m.s.Primary)))
	case ph.Name == Promoting && ph.Committed:
		m.lose(CauseLeaseExpired, fmt.Sprintf("%s, primary in epoch %d, lost its lease before confirming its promotion", m.s.where(m.s.Primary), m.s.Epoch))
	}
	// While a promotion is being committed the commit decides; during a
	// switchover the demoted primary releases its lease on purpose.
}

func (m *machine) leaseRenewed(e LeaseRenewed) {
	if e.Epoch == m.s.Epoch && m.s.Primary != "" && m.s.Phase.lost() && m.s.Phase.From == m.s.Primary {
		m.s.Phase = Phase{Name: Stable}
	}
}

// decide chooses a candidate while the primary is lost, for a request or,
// once the detection grace is over, by itself.
func (m *machine) decide(req *FailoverRequested) {
	ph := &m.s.Phase
	if req == nil && m.now.Before(ph.Since.Add(m.s.Policy.DetectionGrace)) {
		ph.Name = PrimaryLost
		return
	}
	c := choice{}
	if req != nil {
		c = choice{acceptLoss: req.AcceptDataLoss, only: req.To}
	}
	v, ok := m.s.pick(ph.From, c)
	switch {
	case !ok && req != nil:
		m.refuseFailover(req)
	case !ok:
		ph.Name = NoCandidate
	case req == nil && m.s.Policy.Mode == Manual:
		ph.Name = PrimaryLost
	default:
		m.startCommit(v.name, v.loss, req != nil, req != nil && req.AcceptDataLoss && v.loss > 0)
	}
}

// startCommit asks for the promotion of candidate in the next epoch.
// requested says an operator asked for it.
func (m *machine) startCommit(candidate string, loss uint64, requested, acceptedLoss bool) {
	ph := &m.s.Phase
	ph.Name, ph.Candidate, ph.Requested = Promoting, candidate, requested
	ph.Epoch, ph.Committed, ph.Step = m.s.Epoch+1, false, ""
	ph.LossBytes, ph.AcceptedDataLoss = loss, acceptedLoss
	m.emit(CommitPromotion{Candidate: candidate, OldEpoch: m.s.Epoch, NewEpoch: ph.Epoch})
}

func (m *machine) failoverRequested(e FailoverRequested) {
	ph := m.s.Phase
	switch ph.Name {
	case PrimaryLost, NoCandidate:
		m.decide(&e)
	case Stable:
		m.refuse(RequestFailover, fmt.Sprintf("primary %s holds its lease in epoch %d; move it with `fedctl switchover %s`", m.s.where(m.s.Primary), m.s.Epoch, m.s.Service))
	default:
		m.refuse(RequestFailover, m.busy())
	}
}

// refuseFailover explains why a failover request found no candidate.
func (m *machine) refuseFailover(req *FailoverRequested) {
	from := m.s.Phase.From
	if req.To != "" {
		r := m.s.Replica(req.To)
		switch {
		case r == nil:
			m.refuse(RequestFailover, fmt.Sprintf("no replica %s", req.To))
		case req.To == from:
			m.refuse(RequestFailover, fmt.Sprintf("%s is the lost primary; it is never promoted back: promote another replica, and switch over to it later", m.s.where(from)))
		default:
			reason := m.s.judge(r, from).reason
			if !req.AcceptDataLoss && m.s.judge(r, from).usable {
				reason += " (beyond the RPO budget; add --accept-data-loss)"
			}
			m.refuse(RequestFailover, m.s.where(req.To)+" "+reason)
		}
		return
	}
	m.refuse(RequestFailover, m.s.noCandidate(from))
}

func (m *machine) refuse(kind RequestKind, reason string) {
	m.emit(RefuseRequest{Request: kind, Reason: reason})
}

// busy describes the change of primary under way, for refusals.
func (m *machine) busy() string {
	ph := m.s.Phase
	if ph.Name == SwitchingOver {
		return fmt.Sprintf("a switchover from %s to %s is in progress", m.s.where(ph.From), m.s.where(ph.Candidate))
	}
	return fmt.Sprintf("the promotion of %s in epoch %d is in progress", m.s.where(ph.Candidate), ph.Epoch)
}
