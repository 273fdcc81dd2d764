package failover

import (
	"fmt"
	"strings"
)

// switchoverRequested starts a planned switchover: demote the primary,
// wait for the target to replay its final position, then promote the
// target. Only a Stable service with a healthy primary switches over.
func (m *machine) switchoverRequested(e SwitchoverRequested) {
	s := &m.s
	if s.Phase.Name != Stable {
		m.refuse(RequestSwitchover, m.switchoverBusy())
		return
	}
	p := s.Replica(s.Primary)
	if p == nil || !p.Healthy || !p.Reachable {
		m.refuse(RequestSwitchover, fmt.Sprintf("primary %s is not ready or unreachable, so it cannot demote cleanly; if it is lost, its lease expiry starts a failover", s.where(s.Primary)))
		return
	}
	if e.To.Replica == s.Primary {
		m.refuse(RequestSwitchover, fmt.Sprintf("%s is already the primary", s.where(s.Primary)))
		return
	}
	target, why := m.switchoverTarget(e.To)
	if target == "" {
		m.refuse(RequestSwitchover, why)
		return
	}
	s.Phase = Phase{Name: SwitchingOver, Cause: CauseSwitchover, Since: m.now, StepAt: m.now,
		From: s.Primary, Candidate: target, Step: Demoting}
	m.emit(Demote{Replica: s.Primary, Epoch: s.Epoch})
}

// switchoverBusy says why a switchover cannot start now.
func (m *machine) switchoverBusy() string {
	if m.s.Phase.lost() {
		return fmt.Sprintf("failing over: %s; a switchover needs a primary that holds its lease", m.s.Phase.Note)
	}
	return m.busy()
}

// switchoverTarget picks the best replica matching to that can take over:
// usable and following the current primary. Budgets do not apply: the
// target replays every write before it is promoted.
func (m *machine) switchoverTarget(to Target) (string, string) {
	s := &m.s
	var best *verdict
	var why []string
	for _, v := range s.candidates(s.Primary) {
		r := s.Replica(v.name)
		if (to.Replica != "" && v.name != to.Replica) || (to.Cluster != "" && r.Cluster != to.Cluster) || (to.Region != "" && r.Region != to.Region) {
			continue
		}
		switch {
		case !v.usable:
			why = append(why, s.where(v.name)+" "+v.reason)
		case r.Epoch != s.Epoch:
			why = append(why, fmt.Sprintf("%s does not follow the primary of epoch %d yet", s.where(v.name), s.Epoch))
		case best == nil:
			best = &v
		}
	}
	if best != nil {
		return best.name, ""
	}
	if len(why) == 0 {
		return "", fmt.Sprintf("no replica matches the target %s", targetText(to))
	}
	return "", "no replica can take over: " + strings.Join(why, "; ")
}

// targetText renders a switchover target.
func targetText(t Target) string {
	var parts []string
	for _, p := range [][2]string{{"replica", t.Replica}, {"cluster", t.Cluster}, {"region", t.Region}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	if len(parts) == 0 {
		return "(any replica)"
	}
	return strings.Join(parts, ", ")
}

// demoted records the demotion token and starts the catch-up.
func (m *machine) demoted(e Demoted) {
	ph := &m.s.Phase
	if ph.Name != SwitchingOver || ph.Step != Demoting || e.Replica != ph.From || e.Epoch != m.s.Epoch {
		// A late confirmation, for instance after the switchover was
		// aborted: still the old primary's final position.
		if e.Replica == m.s.Primary && e.Epoch == m.s.Epoch {
			m.primaryReturned(e.Replica, e.Epoch, e.Position)
		}
		return
	}
	ph.Step, ph.Final, ph.FinalKnown, ph.FencedAt, ph.StepAt = CatchingUp, e.Position, true, m.now, m.now
	if r := m.s.Replica(e.Replica); r != nil {
		r.Role, r.Position, r.ReportedAt = RoleFenced, max(r.Position, e.Position), m.now
	}
	m.raiseHead(e.Position)
	if t := m.s.Replica(ph.Candidate); t == nil || effective(t) < e.Position {
		m.emit(WaitReplay{Replica: ph.Candidate, Position: e.Position, Epoch: m.s.Epoch})
	}
}

// catchingUp commits the target once it replayed the final position, or
// aborts when the target can no longer take over.
func (m *machine) catchingUp() {
	ph := m.s.Phase
	t := m.s.Replica(ph.Candidate)
	if t == nil {
		m.abort(fmt.Sprintf("switchover to %s aborted: the replica is gone", ph.Candidate))
		return
	}
	v := m.s.judge(t, ph.From)
	switch {
	case !v.usable:
		m.abort(fmt.Sprintf("switchover to %s aborted: it %s", m.s.where(t.Name), v.reason))
	case t.Epoch != m.s.Epoch:
		m.abort(fmt.Sprintf("switchover to %s aborted: it no longer follows the primary of epoch %d", m.s.where(t.Name), m.s.Epoch))
	case effective(t) >= ph.Final:
		m.startCommit(t.Name, 0, false, false)
	}
}

// abort ends a switchover that cannot finish. The old primary was told to
// demote, so from here on it is a lost primary whose final position may be
// known: the failover rules choose the new primary, and never the old one.
func (m *machine) abort(note string) {
	ph := m.s.Phase
	m.s.Phase = Phase{Name: PrimaryLost, Cause: CauseSwitchoverAborted, Note: note, Since: m.now,
		From: ph.From, Final: ph.Final, FinalKnown: ph.FinalKnown, FencedAt: ph.FencedAt}
}
