package failover

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// The property test drives the machine with random event sequences from a
// simulated federation: an etcd that commits only under the epoch and lease
// guard, agents that answer commands, replicas that report positions, an
// operator making requests, hub leaders that crash (dropping or, as
// zombies, still executing their actions) and resume, and events that are
// re-delivered late. After every sequence a brute-force checker reads the
// whole log of events and actions.

// checkStep checks what one step may do, with the states at hand.
func (m *sim) checkStep(t *testing.T, ev Event, before, after State, acts []Action) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after %T %+v: "+format+"\nactions: %v\nphase before %+v\nphase after %+v", append(append([]any{ev, ev}, args...), acts, before.Phase, after.Phase)...)
	}
	if err := after.Validate(); err != nil {
		fail("invalid state: %v", err)
	}
	if again, acts2 := Step(before, ev); !reflect.DeepEqual(again, after) || !reflect.DeepEqual(acts2, acts) {
		fail("Step is not deterministic")
	}
	// Re-delivering the event at once makes no new decision.
	if _, resume := ev.(Resume); !resume {
		_, dup := Step(after, ev)
		for _, a := range dup {
			switch a.(type) {
			case CommitPromotion, Promote, Demote:
				if !slices.Contains(acts, a) {
					fail("re-delivery emits %v", a)
				}
			}
		}
	}
	_, resume := ev.(Resume)
	inFlight := before.Phase.Name == Promoting && !before.Phase.Committed
	for _, a := range acts {
		// A fresh choice, not the in-flight commit a new leader re-emits.
		if _, ok := a.(CommitPromotion); ok && !(resume && inFlight) {
			m.checkChoice(t, fail, after)
		}
	}
	if after.Policy.Mode == Automatic && after.Phase.lost() && !ev.at().Before(after.Phase.Since.Add(after.Policy.DetectionGrace)) {
		if ok := refAcceptable(after, after.Phase.From); len(ok) > 0 {
			fail("still %s though %v are acceptable", after.Phase.Name, ok)
		}
	}
}

// checkChoice checks a fresh automatic or requested choice against the
// reference rules.
func (m *sim) checkChoice(t *testing.T, fail func(string, ...any), s State) {
	t.Helper()
	ph := s.Phase
	if ph.Cause == CauseSwitchover && !ph.Requested {
		if c := s.Replica(ph.Candidate); !ph.FinalKnown || max(c.Position, c.SyncAcked) < ph.Final {
			fail("switchover commits %s before it replayed the final position %d", ph.Candidate, ph.Final)
		}
		return
	}
	if ph.Requested {
		return // the operator may choose, and accept loss
	}
	ok := refAcceptable(s, ph.From)
	loss, found := ok[ph.Candidate]
	if !found {
		fail("chose %s, which the reference does not accept (acceptable: %v)", ph.Candidate, ok)
	}
	for name, l := range ok {
		if l < loss {
			fail("chose %s losing %d, but %s loses %d", ph.Candidate, loss, name, l)
		}
	}
	if s.Policy.SyncReplicas > 0 {
		head := s.Head().Position
		zero := func(n string) bool { r := s.Replica(n); return r.SyncAcked > 0 && r.SyncAcked >= head }
		for name := range ok {
			if zero(name) && !zero(ph.Candidate) {
				fail("chose %s over the synchronous standby %s that acknowledged the head", ph.Candidate, name)
			}
		}
	}
}

// refAcceptable restates the candidate rules replica by replica, without
// the machine's code: the replicas but from that may be promoted
// automatically, with their estimated loss.
func refAcceptable(s State, from string) map[string]uint64 {
	head := s.Head()
	out := map[string]uint64{}
	for _, r := range s.Replicas {
		if r.Name == from || !r.Reachable || !r.Healthy || !slices.Contains(s.Allowed, r.Cluster) || r.Fenced || r.ReportedAt.IsZero() {
			continue
		}
		if r.Epoch != s.Epoch && (r.Epoch > s.Epoch || r.Diverged) {
			continue
		}
		pos := max(r.Position, r.SyncAcked)
		var loss uint64
		if head.Position > pos {
			loss = head.Position - pos
		}
		if loss > 0 {
			rpo := s.Policy.RPO
			if rpo == nil || (rpo.MaxLagBytes == nil && rpo.MaxLag == nil) {
				continue
			}
			if rpo.MaxLagBytes != nil && loss > *rpo.MaxLagBytes {
				continue
			}
			if rpo.MaxLag != nil && (r.CaughtUpAt.IsZero() || head.At.Sub(r.CaughtUpAt) > *rpo.MaxLag) {
				continue
			}
		}
		out[r.Name] = loss
	}
	return out
}

// checkLog is the brute-force checker over a whole run.
func checkLog(t *testing.T, log []entry) {
	t.Helper()
	promoted := map[uint64][]string{}
	for i, e := range log {
		if e.after.Epoch < e.before.Epoch {
			t.Fatalf("step %d: epoch went back from %d to %d", i, e.before.Epoch, e.after.Epoch)
		}
		if e.after.Primary != e.etcdLog[e.after.Epoch] {
			t.Fatalf("step %d: the state names %s primary of epoch %d, etcd %s", i, e.after.Primary, e.after.Epoch, e.etcdLog[e.after.Epoch])
		}
		for _, a := range e.acts {
			switch a := a.(type) {
			case CommitPromotion:
				if a.OldEpoch != e.before.Epoch || a.NewEpoch != a.OldEpoch+1 {
					t.Fatalf("step %d: %v from a state in epoch %d", i, a, e.before.Epoch)
				}
				if old := e.etcdLog[a.OldEpoch]; a.Candidate == old {
					t.Fatalf("step %d: %v promotes back %s, the primary of epoch %d", i, a, old, a.OldEpoch)
				}
			case Promote:
				if !slices.Contains(promoted[a.Epoch], a.Replica) {
					promoted[a.Epoch] = append(promoted[a.Epoch], a.Replica)
				}
				if len(promoted[a.Epoch]) > 1 {
					t.Fatalf("step %d: replicas %v all told to promote in epoch %d", i, promoted[a.Epoch], a.Epoch)
				}
				if !ackedBefore(log[:i+1], a.Epoch, a.Replica) {
					t.Fatalf("step %d: %v before any event acknowledged that commit", i, a)
				}
				if e.etcdLog[a.Epoch] != a.Replica {
					t.Fatalf("step %d: %v but etcd committed %q in that epoch", i, a, e.etcdLog[a.Epoch])
				}
			}
		}
	}
}

// ackedBefore says whether an event in log acknowledged that etcd committed
// epoch with primary.
func ackedBefore(log []entry, epoch uint64, primary string) bool {
	for _, e := range log {
		switch ev := e.ev.(type) {
		case PromotionCommitted:
			if ev.Epoch == epoch && ev.Primary == primary {
				return true
			}
		case CommitFailed:
			if ev.Epoch == epoch && ev.Primary == primary {
				return true
			}
		}
	}
	return false
}

// TestNoTwoPrimaries: across random event sequences at most one replica is
// ever told to promote per epoch, epochs only grow, every Promote follows
// an acknowledged commit of its epoch and replica, a replaced primary is
// never the candidate, choices agree with the reference rules, and no
// acceptable candidate is left waiting in Automatic mode.
func TestNoTwoPrimaries(t *testing.T) {
	seeds, steps := 200, 400
	if testing.Short() {
		seeds = 60
	}
	stats := map[string]int{}
	for seed := range uint64(seeds) {
		m := newSim(seed)
		m.run(t, steps)
		checkLog(t, m.log)
		stats["epochs"] += int(m.epoch - 4)
		for _, e := range m.log {
			for _, a := range e.acts {
				switch a.(type) {
				case Promote, CommitPromotion, Demote, Rewind, RefuseRequest:
					stats[fmt.Sprintf("%T", a)]++
				}
			}
			if e.after.Phase.Name != e.before.Phase.Name {
				stats[string(e.after.Phase.Name)]++
			}
		}
	}
	t.Logf("%d seeds x %d steps: %v", seeds, steps, stats)
	for _, k := range []string{"epochs", "failover.Promote", "failover.Demote", "failover.Rewind", "NoCandidate", "SwitchingOver"} {
		if stats[k] == 0 {
			t.Errorf("the generator never produced %s: %v", k, stats)
		}
	}
}
