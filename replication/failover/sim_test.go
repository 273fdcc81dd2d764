package failover

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

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
