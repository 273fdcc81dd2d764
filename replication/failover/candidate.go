package failover

import (
	"fmt"
	"sort"
	"time"
)

// verdict is what the candidate rules say about one replica.
type verdict struct {
	name string
	// usable: healthy, reachable, allowed, on the current history and
	// with a known position. Only a usable replica is ever promoted.
	usable bool
	// within: usable and within the RPO budget.
	within bool
	// reason says why the replica is not usable or not within the budget.
	reason string
	// loss is the estimated data loss in bytes: head minus the replica's
	// position.
	loss uint64
	// syncZero: a synchronous standby that acknowledged the head.
	syncZero bool
	// preferred: in the region SyncScope prefers (only for syncZero).
	preferred bool
	position  uint64
}

// effective is the furthest position a replica is known to hold: its own
// report or the primary's acknowledgement of it as a synchronous standby.
func effective(r *Replica) uint64 { return max(r.Position, r.SyncAcked) }

// onHistory says whether r's log is a prefix of the current history.
func (s *State) onHistory(r *Replica) bool {
	return r.Epoch == s.Epoch || (r.Epoch < s.Epoch && !r.Diverged)
}

// judge applies the candidate rules to r, the primary lost being from.
func (s *State) judge(r *Replica, from string) verdict {
	v := verdict{name: r.Name, position: effective(r)}
	head := s.Head()
	if head.Position > v.position {
		v.loss = head.Position - v.position
	}
	switch {
	case !r.Reachable:
		v.reason = "is unreachable"
	case !r.Healthy:
		v.reason = "is not ready"
	case !s.allowed(r.Cluster):
		v.reason = "runs in a cluster placement does not allow"
	case r.Fenced:
		v.reason = "is a fenced old primary that has not rejoined"
	case r.Epoch > s.Epoch:
		v.reason = fmt.Sprintf("follows epoch %d, newer than the committed %d", r.Epoch, s.Epoch)
	case !s.onHistory(r):
		v.reason = "has diverged from the current history and must rewind"
	case r.ReportedAt.IsZero():
		v.reason = "has not reported its position"
	default:
		v.usable = true
	}
	if !v.usable {
		return v
	}
	v.syncZero = s.Policy.SyncReplicas > 0 && r.SyncAcked > 0 && r.SyncAcked >= head.Position
	if v.syncZero {
		if lost := s.Replica(from); lost != nil && lost.Region != "" {
			switch s.Policy.SyncScope {
			case SyncSameRegion:
				v.preferred = r.Region == lost.Region
			case SyncOtherRegion:
				v.preferred = r.Region != lost.Region
			}
		}
	}
	v.within, v.reason = s.withinBudget(r, v.loss, head)
	return v
}

// withinBudget checks a usable replica's loss against the RPO budget and
// says why it is over.
func (s *State) withinBudget(r *Replica, loss uint64, head Mark) (bool, string) {
	if loss == 0 {
		return true, ""
	}
	behind := fmt.Sprintf("is %s behind", bytesText(loss))
	rpo := s.Policy.RPO
	if rpo == nil || (rpo.MaxLagBytes == nil && rpo.MaxLag == nil) {
		return false, behind
	}
	if rpo.MaxLagBytes != nil && loss > *rpo.MaxLagBytes {
		return false, behind
	}
	if rpo.MaxLag != nil {
		if r.CaughtUpAt.IsZero() {
			return false, behind + " and was never seen caught up"
		}
		if lag := head.At.Sub(r.CaughtUpAt); lag > *rpo.MaxLag {
			return false, fmt.Sprintf("%s, %s behind in time", behind, lag.Round(time.Millisecond))
		}
	}
	return true, ""
}

// better orders candidates, best first: synchronous standbys that
// acknowledged the head, among them those in the region SyncScope
// prefers; then the furthest position; then the name.
func better(a, b verdict) bool {
	if a.syncZero != b.syncZero {
		return a.syncZero
	}
	if a.preferred != b.preferred {
		return a.preferred
	}
	if a.position != b.position {
		return a.position > b.position
	}
	return nameLess(a.name, b.name)
}

// choice restricts a candidate search.
type choice struct {
	acceptLoss bool   // any usable replica, whatever the budget
	only       string // only this replica, when set
}

// candidates judges every replica but from, best first.
func (s *State) candidates(from string) []verdict {
	var vs []verdict
	for i := range s.Replicas {
		if r := &s.Replicas[i]; r.Name != from {
			vs = append(vs, s.judge(r, from))
		}
	}
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].usable != vs[j].usable {
			return vs[i].usable
		}
		return better(vs[i], vs[j])
	})
	return vs
}

// pick returns the best candidate to replace from under c, or false.
func (s *State) pick(from string, c choice) (verdict, bool) {
	for _, v := range s.candidates(from) {
		if c.only != "" && v.name != c.only {
			continue
		}
		if v.within || (c.acceptLoss && v.usable) {
			return v, true
		}
	}
	return verdict{}, false
}
