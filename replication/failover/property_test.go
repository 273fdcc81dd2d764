package failover

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// The property test drives the machine with random event sequences from a
// simulated federation: an etcd that commits only under the epoch and lease
// guard, agents that answer commands, replicas that report positions, an
// operator making requests, hub leaders that crash (dropping or, as
// zombies, still executing their actions) and resume, and events that are
// re-delivered late. After every sequence a brute-force checker reads the
// whole log of events and actions.

// entry is one step of the log.
type entry struct {
	ev         Event
	acts       []Action
	before     State // the state Step was given
	after      State
	etcdEpoch  uint64            // etcd's epoch when the event was delivered
	etcdLog    map[uint64]string // etcd's committed primaries then (shared, append-only)
	redelivery bool
}

// sim is the simulated federation around the machine.
type sim struct {
	r       *rand.Rand
	s       State
	now     time.Time
	epoch   uint64            // etcd's epoch
	primary string            // etcd's primary
	lease   bool              // the primary's lease is held
	commits map[uint64]string // every committed epoch's primary
	pending []Action          // actions the executor has not carried out
	head    uint64            // the furthest position any primary wrote
	past    []Event
	log     []entry
}

func newSim(seed uint64) *sim {
	r := rand.New(rand.NewPCG(seed, 0xfa11))
	n := 3 + r.IntN(3)
	s := State{Service: "db", Epoch: 4, Primary: "db-0", Phase: Phase{Name: Stable}}
	s.Policy.Mode = []Mode{Automatic, Automatic, Manual}[r.IntN(3)]
	s.Policy.SyncReplicas = r.IntN(2)
	s.Policy.SyncScope = []SyncScope{SyncAny, SyncSameRegion, SyncOtherRegion}[r.IntN(3)]
	s.Policy.DetectionGrace = time.Duration(r.IntN(3)) * time.Second
	s.Policy.StepTimeout = time.Duration(r.IntN(2)*5) * time.Second
	if r.IntN(3) > 0 {
		s.Policy.RPO = &RPO{}
		if r.IntN(2) == 0 {
			b := uint64(500 + r.IntN(4000))
			s.Policy.RPO.MaxLagBytes = &b
		}
		if r.IntN(2) == 0 {
			d := time.Duration(1+r.IntN(5)) * time.Second
			s.Policy.RPO.MaxLag = &d
		}
	}
	head := uint64(10000)
	for i := range n {
		c := fmt.Sprintf("c-%d", i)
		s.Allowed = append(s.Allowed, c)
		pos := head - uint64(r.IntN(3000))
		role := RoleAsyncReplica
		if i == 0 {
			pos, role = head, RolePrimary
		}
		s.Replicas = append(s.Replicas, Replica{Name: fmt.Sprintf("db-%d", i), Cluster: c, Region: fmt.Sprintf("r-%d", i%2),
			Healthy: true, Reachable: true, Role: role, Epoch: 4, Position: pos, ReportedAt: t0})
	}
	s.Marks = []Mark{{Position: head, At: t0}}
	return &sim{r: r, s: s, now: t0, epoch: 4, primary: "db-0", lease: true, commits: map[uint64]string{4: "db-0"}, head: head}
}

func (m *sim) replicaName() string { return m.s.Replicas[m.r.IntN(len(m.s.Replicas))].Name }

// event makes up the next event, carrying out an action now and then.
func (m *sim) event() (Event, bool) {
	r := m.r
	m.now = m.now.Add(time.Duration(r.IntN(1500)) * time.Millisecond)
	now := m.now
	switch k := r.IntN(100); {
	case k < 25 && len(m.pending) > 0:
		return m.execute()
	case k < 30 && len(m.past) > 0:
		return m.past[r.IntN(len(m.past))], true
	case k < 37:
		if m.lease && r.IntN(2) == 0 {
			m.lease = false
			return LeaseExpired{Epoch: m.epoch, At: now}, false
		}
		return LeaseExpired{Epoch: uint64(r.IntN(int(m.epoch) + 1)), At: now}, false
	case k < 41:
		if !m.lease && r.IntN(3) == 0 {
			m.lease = true // the primary's agent re-acquires the lease
			return LeaseRenewed{Epoch: m.epoch, At: now}, false
		}
		return LeaseRenewed{Epoch: uint64(r.IntN(int(m.epoch) + 1)), At: now}, false
	case k < 62:
		return m.report(), false
	case k < 72:
		return ReplicaChanged{Replica: m.replicaName(), Cluster: fmt.Sprintf("c-%d", r.IntN(len(m.s.Replicas)+1)),
			Region: fmt.Sprintf("r-%d", r.IntN(2)), Healthy: r.IntN(4) > 0, Reachable: r.IntN(4) > 0, At: now}, false
	case k < 75:
		var allowed []string
		for i := range len(m.s.Replicas) + 1 {
			if r.IntN(4) > 0 {
				allowed = append(allowed, fmt.Sprintf("c-%d", i))
			}
		}
		return PlacementChanged{Allowed: allowed, At: now}, false
	case k < 79:
		return SwitchoverRequested{To: Target{Replica: []string{"", m.replicaName()}[r.IntN(2)]}, At: now}, false
	case k < 83:
		return FailoverRequested{To: []string{"", m.replicaName()}[r.IntN(2)], AcceptDataLoss: r.IntN(2) == 0, At: now}, false
	case k < 86:
		var old []uint64
		for e := range m.commits {
			if e < m.epoch {
				old = append(old, e)
			}
		}
		if len(old) == 0 {
			return Tick{At: now}, false
		}
		slices.Sort(old)
		e := old[r.IntN(len(old))]
		return PrimaryReturned{Replica: m.commits[e], Epoch: e, Position: m.head - uint64(r.IntN(2000)), At: now}, false
	case k < 88:
		return DNSPublished{Epoch: uint64(r.IntN(int(m.epoch) + 1)), At: now}, false
	case k < 91:
		// A hub leader crashes: its actions are lost, or a zombie carries
		// them out later; the next leader resumes from the stored state.
		if r.IntN(2) == 0 {
			m.pending = nil
		}
		return Resume{At: now}, false
	default:
		return Tick{At: now}, false
	}
}

// report is a position report: the etcd primary's with its synchronous
// standbys' acknowledgements, a follower's, or a stale claim.
func (m *sim) report() Event {
	r := m.r
	name := m.replicaName()
	if name == m.primary && m.lease {
		m.head += uint64(r.IntN(3000))
		var acks []SyncAck
		for _, rep := range m.s.Replicas {
			if rep.Name != name && r.IntN(3) == 0 {
				acks = append(acks, SyncAck{Replica: rep.Name, Position: m.head - uint64(r.IntN(2))*uint64(r.IntN(500))})
			}
		}
		return PositionReported{Replica: name, Role: RolePrimary, Epoch: m.epoch, Position: m.head, SyncAcks: acks, At: m.now}
	}
	role := []Role{RoleAsyncReplica, RoleSyncStandby, RoleAsyncReplica, RolePrimary}[r.IntN(4)]
	epoch := m.epoch
	if r.IntN(3) == 0 {
		epoch = uint64(r.IntN(int(m.epoch) + 1))
	}
	return PositionReported{Replica: name, Role: role, Epoch: epoch, Position: m.head - uint64(r.IntN(4000)), At: m.now}
}

// execute carries out a pending action as the executor, etcd and agents
// would, and returns the event it leads to. An action is sometimes carried
// out twice.
func (m *sim) execute() (Event, bool) {
	i := m.r.IntN(len(m.pending))
	a := m.pending[i]
	if m.r.IntN(5) > 0 {
		m.pending = slices.Delete(m.pending, i, i+1)
	}
	now := m.now
	switch a := a.(type) {
	case CommitPromotion:
		if m.epoch == a.OldEpoch && !m.lease {
			m.epoch, m.primary = a.NewEpoch, a.Candidate
			m.commits[a.NewEpoch] = a.Candidate
			return PromotionCommitted{Epoch: a.NewEpoch, Primary: a.Candidate, At: now}, false
		}
		return CommitFailed{Epoch: m.epoch, Primary: m.primary, LeaseHeld: m.lease, At: now}, false
	case Promote:
		if m.epoch == a.Epoch && m.primary == a.Replica {
			m.lease = true
			return Promoted{Replica: a.Replica, Epoch: a.Epoch, Position: m.head, At: now}, false
		}
	case Demote:
		if m.epoch == a.Epoch && m.primary == a.Replica {
			m.lease = false
			return Demoted{Replica: a.Replica, Epoch: a.Epoch, Position: m.head, At: now}, false
		}
	case WaitReplay:
		return PositionReported{Replica: a.Replica, Role: RoleAsyncReplica, Epoch: a.Epoch, Position: a.Position, At: now}, false
	}
	return Tick{At: now}, false
}

// run drives the machine for steps events, checking each step.
func (m *sim) run(t *testing.T, steps int) {
	t.Helper()
	for range steps {
		ev, redelivery := m.event()
		before := m.s
		after, acts := Step(before, ev)
		m.log = append(m.log, entry{ev: ev, acts: acts, before: before, after: after, etcdEpoch: m.epoch, etcdLog: m.commits, redelivery: redelivery})
		m.checkStep(t, ev, before, after, acts)
		// The executor stores the state and reads it back.
		data, err := Encode(after)
		if err != nil {
			t.Fatalf("encode after %T: %v", ev, err)
		}
		stored, err := Decode(data)
		if err != nil || !reflect.DeepEqual(stored, after) {
			t.Fatalf("stored state differs (%v)", err)
		}
		m.s = stored
		m.past = append(m.past, ev)
		for _, a := range acts {
			switch a.(type) {
			case CommitPromotion, Promote, Demote, WaitReplay:
				m.pending = append(m.pending, a)
			}
		}
	}
}

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
