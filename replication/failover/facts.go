package failover

import (
	"slices"
	"time"
)

func (m *machine) positionReported(e PositionReported) {
	if e.Replica == "" {
		return
	}
	current := e.Replica == m.s.Primary && e.Epoch == m.s.Epoch
	if (e.Role == RolePrimary) != current || (e.Replica == m.s.Primary && !current) {
		// Only the committed primary of the current epoch is a primary; the
		// primary reporting another role has been fenced.
		m.primaryReturned(e.Replica, e.Epoch, e.Position)
		return
	}
	r := m.s.ensure(e.Replica)
	if e.At.Before(r.ReportedAt) {
		return // an older report delivered late
	}
	r.Role, r.Epoch, r.Position, r.ReportedAt = e.Role, e.Epoch, e.Position, e.At
	switch {
	case e.Epoch == m.s.Epoch:
		r.Diverged, r.Fenced = false, false
	case e.Epoch < m.s.Epoch:
		r.Diverged = r.Diverged || e.Epoch+1 < m.s.Epoch || e.Position > m.s.Fork
	}
	if current {
		m.primaryReport(e)
		return
	}
	if e.Epoch == m.s.Epoch {
		m.raiseHead(effective(r))
	}
	m.catchUp(r)
}

// primaryReport applies the current primary's report: its position and
// its synchronous standbys' acknowledgements.
func (m *machine) primaryReport(e PositionReported) {
	for i := range m.s.Replicas {
		m.s.Replicas[i].SyncAcked = 0
	}
	for _, a := range e.SyncAcks {
		if r := m.s.Replica(a.Replica); r != nil && a.Replica != m.s.Primary {
			r.SyncAcked = a.Position
		}
	}
	head := m.s.Head()
	if e.Position >= head.Position {
		m.addMark(e.Position, m.writesUntil(e.At))
	}
	for i := range m.s.Replicas {
		if r := &m.s.Replicas[i]; r.Name != m.s.Primary {
			m.catchUp(r)
		}
	}
}

// writesUntil bounds when the writes seen at t were made: no later than
// the old primary was fenced while it is being replaced.
func (m *machine) writesUntil(t time.Time) time.Time {
	ph := m.s.Phase
	if ph.Name != Stable && !ph.Committed && !ph.FencedAt.IsZero() && ph.FencedAt.Before(t) {
		return ph.FencedAt
	}
	return t
}

// raiseHead records that the current history reaches at least pos.
func (m *machine) raiseHead(pos uint64) {
	if pos > m.s.Head().Position {
		m.addMark(pos, m.writesUntil(m.now))
	}
}

// addMark appends the head's position and time, keeping the last few.
func (m *machine) addMark(pos uint64, at time.Time) {
	if n := len(m.s.Marks); n > 0 {
		last := &m.s.Marks[n-1]
		if at.Before(last.At) {
			at = last.At
		}
		if last.Position == pos {
			last.At = at
			return
		}
	}
	m.s.Marks = append(m.s.Marks, Mark{Position: pos, At: at})
	if len(m.s.Marks) > maxMarks {
		m.s.Marks = slices.Delete(m.s.Marks, 0, len(m.s.Marks)-maxMarks)
	}
}

// catchUp moves r's CaughtUpAt to the newest mark its position covers.
func (m *machine) catchUp(r *Replica) {
	if !m.s.onHistory(r) {
		return
	}
	pos := effective(r)
	for i := len(m.s.Marks) - 1; i >= 0; i-- {
		if mk := m.s.Marks[i]; mk.Position <= pos {
			if mk.At.After(r.CaughtUpAt) {
				r.CaughtUpAt = mk.At
			}
			return
		}
	}
}

func (m *machine) replicaChanged(e ReplicaChanged) {
	if e.Replica == "" {
		return
	}
	ph := m.s.Phase
	if e.Gone {
		keep := e.Replica == m.s.Primary || e.Replica == ph.From || e.Replica == ph.Candidate
		if !keep {
			m.s.Replicas = slices.DeleteFunc(m.s.Replicas, func(r Replica) bool { return r.Name == e.Replica })
			return
		}
		e.Healthy, e.Reachable = false, false
	}
	r := m.s.ensure(e.Replica)
	if e.Cluster != "" {
		r.Cluster, r.Region = e.Cluster, e.Region
	}
	r.Healthy, r.Reachable = e.Healthy, e.Reachable
}

func (m *machine) placementChanged(e PlacementChanged) {
	a := slices.Clone(e.Allowed)
	slices.Sort(a)
	m.s.Allowed = slices.Compact(a)
	if len(m.s.Allowed) == 0 {
		m.s.Allowed = nil
	}
}

// primaryReturned handles a replica that reports itself primary, or was
// primary, in epoch: the current primary reporting its final position
// while it is being replaced, or an old primary (or an impostor) that must
// stay fenced and rejoin, never be promoted back.
func (m *machine) primaryReturned(name string, epoch, pos uint64) {
	if name == "" || epoch > m.s.Epoch {
		return // the machine learns epochs from etcd only
	}
	ph := &m.s.Phase
	if name == m.s.Primary {
		if epoch < m.s.Epoch {
			return // a report from before its promotion
		}
		r := m.s.ensure(name)
		r.Position, r.ReportedAt = max(r.Position, pos), m.now
		if ph.lost() || (ph.Name == Promoting && !ph.Committed) {
			r.Role = RoleFenced
			ph.Final, ph.FinalKnown = max(ph.Final, pos), true
			m.raiseHead(pos)
		}
		return
	}
	r := m.s.ensure(name)
	if m.now.Before(r.ReportedAt) {
		return // older than what the replica reported since
	}
	r.Role, r.Epoch, r.Position, r.ReportedAt = RoleFenced, epoch, pos, m.now
	r.Fenced = true
	r.Diverged = !(epoch+1 == m.s.Epoch && pos <= m.s.Fork)
	m.emit(Fence{Replica: name, Epoch: m.s.Epoch})
	if ph.Name == Stable || ph.Name == SwitchingOver || (ph.Name == Promoting && ph.Committed) {
		m.emit(m.rejoin(r))
	}
}
