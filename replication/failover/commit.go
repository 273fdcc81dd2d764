package failover

import (
	"fmt"
	"math"
	"time"
)

// committed applies a fact read from etcd: epoch is committed with primary.
// It is the only place the epoch and the primary change, so Promote is only
// ever emitted for a committed epoch, to the primary etcd names.
func (m *machine) committed(epoch uint64, primary string) {
	if epoch <= m.s.Epoch || primary == "" || epoch >= math.MaxInt64 {
		return // known already (re-delivered or stale), or not an epoch
	}
	ph := m.s.Phase
	if ph.Name != Promoting || ph.Committed || ph.Epoch != epoch || ph.Candidate != primary {
		// Not the commit this state asked for: another hub leader's, or
		// ours from before a restart that lost track of it.
		since := ph.Since
		if since.IsZero() {
			since = m.now
		}
		adopted := Phase{Cause: CauseAdopted, Since: since, From: m.s.Primary, FencedAt: ph.FencedAt,
			Note: fmt.Sprintf("epoch %d was committed with %s by another hub leader", epoch, primary)}
		if ph.From == m.s.Primary {
			adopted.Final, adopted.FinalKnown = ph.Final, ph.FinalKnown
		}
		ph = adopted
		if c := m.s.Replica(primary); c != nil && m.s.Head().Position > effective(c) {
			ph.LossBytes = m.s.Head().Position - effective(c)
		}
	}
	cand := m.s.ensure(primary)
	fork := effective(cand)
	m.s.Epoch, m.s.Primary, m.s.Fork = epoch, primary, fork
	m.s.Marks = []Mark{{Position: fork, At: m.now}}
	for i := range m.s.Replicas {
		r := &m.s.Replicas[i]
		r.SyncAcked = 0
		switch {
		case r == cand:
			r.Role, r.Epoch, r.Diverged, r.Fenced = RolePrimary, epoch, false, false
		case r.Name == ph.From && ph.Cause == CauseSwitchover:
			// Demoted with its final position replayed by the target.
			r.Diverged = r.Position > fork
		case r.Name == ph.From:
			// Lost: it stays fenced; without its final position it may
			// hold writes the new primary lacks.
			r.Fenced, r.Diverged = true, !ph.FinalKnown || ph.Final > fork
		case r.Epoch < epoch:
			r.Diverged = r.Diverged || r.Epoch+1 < epoch || effective(r) > fork
		}
		if r.Diverged {
			r.CaughtUpAt = time.Time{}
		}
	}
	fenced := ph.FencedAt
	if fenced.IsZero() && ph.Cause != CauseSwitchover && ph.From != "" {
		fenced = ph.Since
	}
	cause := ph.Cause
	if ph.Requested {
		cause = CauseManual
	}
	rec := Record{Epoch: epoch, Cause: cause, From: ph.From, To: primary, DetectedAt: ph.Since,
		FencedAt: fenced, CommittedAt: m.now, DataLossBytes: ph.LossBytes, AcceptedDataLoss: ph.AcceptedDataLoss}
	m.s.History = append([]Record{rec}, m.s.History...)
	if len(m.s.History) > MaxHistory {
		m.s.History = m.s.History[:MaxHistory]
	}
	ph.Name, ph.Candidate, ph.Epoch, ph.Committed, ph.Step, ph.StepAt = Promoting, primary, epoch, true, "", m.now
	m.s.Phase = ph
	m.emit(Promote{Replica: primary, Epoch: epoch})
	m.commandFollowers()
	m.emit(RecordFailover{Record: rec})
}

// commandFollowers tells every replica that has not reported following the
// current primary what to do: an old primary stays fenced, a diverged
// replica rewinds, the others follow.
func (m *machine) commandFollowers() {
	for i := range m.s.Replicas {
		r := &m.s.Replicas[i]
		if r.Name == m.s.Primary || (r.Epoch >= m.s.Epoch && !r.Fenced) {
			continue
		}
		if r.Fenced {
			m.emit(Fence{Replica: r.Name, Epoch: m.s.Epoch})
		}
		m.emit(m.rejoin(r))
	}
}

// rejoin is the command that makes r a follower of the current primary.
func (m *machine) rejoin(r *Replica) Action {
	if r.Diverged {
		return Rewind{Replica: r.Name, Primary: m.s.Primary, Epoch: m.s.Epoch}
	}
	return Follow{Replica: r.Name, Primary: m.s.Primary, Epoch: m.s.Epoch}
}

func (m *machine) commitFailed(e CommitFailed) {
	if e.Epoch > m.s.Epoch {
		m.committed(e.Epoch, e.Primary)
		return
	}
	ph := &m.s.Phase
	if ph.Name != Promoting || ph.Committed || e.Epoch != m.s.Epoch {
		return // stale
	}
	if e.LeaseHeld {
		// The primary kept or regained its lease before the commit.
		m.s.Phase = Phase{Name: Stable}
		return
	}
	// Another guard failed: go back to the step before the commit, which
	// settle runs again.
	ph.Epoch, ph.LossBytes, ph.AcceptedDataLoss, ph.Requested = 0, 0, false, false
	if ph.Cause == CauseSwitchover {
		ph.Name, ph.Step = SwitchingOver, CatchingUp
		return
	}
	ph.Name, ph.Candidate = PrimaryLost, ""
}

func (m *machine) promoted(e Promoted) {
	ph := m.s.Phase
	if ph.Name != Promoting || !ph.Committed || e.Epoch != m.s.Epoch || e.Replica != m.s.Primary {
		return
	}
	if e.Position > m.s.Fork {
		m.s.Fork = e.Position
		m.raiseHead(e.Position)
	}
	if r := m.s.Replica(e.Replica); r != nil {
		r.Position = max(r.Position, e.Position)
	}
	m.s.Phase = Phase{Name: Stable}
	if len(m.s.History) > 0 && m.s.History[0].Epoch == e.Epoch && m.s.History[0].PromotedAt.IsZero() {
		m.s.History[0].PromotedAt = m.now
		m.emit(RecordFailover{Record: m.s.History[0]})
	}
}

func (m *machine) dnsPublished(e DNSPublished) {
	for i := range m.s.History {
		if rec := &m.s.History[i]; rec.Epoch == e.Epoch && rec.PublishedAt.IsZero() {
			rec.PublishedAt = m.now
			m.emit(RecordFailover{Record: *rec})
		}
	}
}

// resume re-emits what the phase still needs from the executor: a new
// leader cannot know which of its predecessor's actions were carried out.
func (m *machine) resume() {
	ph := m.s.Phase
	switch {
	case ph.Name == Stable:
		m.commandFollowers()
	case ph.Name == Promoting && !ph.Committed:
		m.emit(CommitPromotion{Candidate: ph.Candidate, OldEpoch: m.s.Epoch, NewEpoch: ph.Epoch})
	case ph.Name == Promoting:
		m.emit(Promote{Replica: ph.Candidate, Epoch: ph.Epoch})
		m.commandFollowers()
	case ph.Name == SwitchingOver && ph.Step == Demoting:
		m.emit(Demote{Replica: ph.From, Epoch: m.s.Epoch})
	case ph.Name == SwitchingOver:
		m.emit(WaitReplay{Replica: ph.Candidate, Position: ph.Final, Epoch: m.s.Epoch})
	}
	if (ph.Name == Stable || ph.Name == Promoting && ph.Committed) && len(m.s.History) > 0 && m.s.History[0].Epoch == m.s.Epoch {
		m.emit(RecordFailover{Record: m.s.History[0]})
	}
}
