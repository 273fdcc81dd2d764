package gossip

import (
	"bytes"
	"maps"
	"slices"
	"sync"
	"time"
)

// view is one node's picture of the pool. memberlist's EventDelegate
// reports joins, metadata updates and deaths; its PingDelegate direct
// acks; its log the failed probes and local death declarations (see
// logwriter.go); the pool's ticker the passing of time. memberlist offers
// no hook for a suspicion it receives from another node nor for a
// refutation, so a member turns Suspect here only when this node's own
// probe fails, and back to Alive on a direct ack or when the suspicion
// window passes without a death.
//
// All methods are safe for concurrent use and never block: subscribers'
// channels are written without waiting.
type view struct {
	mu      sync.Mutex
	members map[string]*entry
	subs    map[*Subscription]struct{}
	// closed is set by closeSubscriptions: no new subscriber.
	closed bool
	// window is how long a suspicion may last before memberlist declares
	// the member dead, given the number of members; past it, a member
	// still Suspect here was refuted.
	window func(members int) time.Duration
	// forget is how long dead and left members are kept.
	forget time.Duration
	// health returns this node's memberlist health score.
	health func() int
	// metrics observes transitions and member counts; may be nil.
	metrics *metrics
}

// entry is one member and what this node knows about its current state.
type entry struct {
	m Member
	// leaving is the Leaving flag of the member's last metadata.
	leaving bool
	// suspectedHere: this node's own probe failed during the current
	// suspicion.
	suspectedHere bool
	// refuteAt: while Suspect, when to infer that the member refuted.
	refuteAt time.Time
	// declared: this node's suspicion timer declared the member dead at
	// declaredAt (from the log line, just before memberlist's NotifyLeave
	// in the same goroutine).
	declared   bool
	declaredAt time.Time
	// confirmations counted by that timer.
	confirmations int
}

// declarationMaxAge bounds the time between memberlist's log line
// declaring a death and its NotifyLeave, which follow each other in one
// goroutine.
const declarationMaxAge = time.Second

// nodeInfo is the part of a memberlist.Node the view uses, copied while
// memberlist holds its lock.
type nodeInfo struct {
	name string
	addr string
	meta []byte
}

func newView(window func(int) time.Duration, forget time.Duration, health func() int, m *metrics) *view {
	return &view{
		members: make(map[string]*entry),
		subs:    make(map[*Subscription]struct{}),
		window:  window,
		forget:  forget,
		health:  health,
		metrics: m,
	}
}

// join records a member memberlist reports alive: new, or back from Dead
// or Left.
func (v *view) join(n nodeInfo, self bool, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[n.name]
	if !ok {
		e = &entry{m: Member{Name: n.name, Self: self}}
		v.members[n.name] = e
	}
	e.setNode(n)
	e.suspectedHere, e.declared, e.confirmations = false, false, 0
	e.m.DirectProbeFailed = false
	v.move(e, StateAlive, now, Transition{})
}

// update records new metadata of a member.
func (v *view) update(n nodeInfo, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[n.name]
	if !ok {
		return
	}
	e.setNode(n)
	v.emit(Transition{Member: e.member(), From: e.m.State, To: e.m.State, At: now, HealthScore: v.health()})
}

// leave records a member memberlist declared dead or that left.
func (v *view) leave(name string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[name]
	if !ok {
		return
	}
	to := StateDead
	if e.leaving {
		to = StateLeft
	}
	// A declaration belongs to this death only if logged just before it:
	// memberlist skips NotifyLeave when the member refuted in between.
	here := e.declared && now.Sub(e.declaredAt) < declarationMaxAge
	tr := Transition{DeclaredHere: here, SuspectedHere: e.suspectedHere}
	if here {
		tr.Confirmations = e.confirmations
	}
	e.suspectedHere, e.declared, e.confirmations = false, false, 0
	v.move(e, to, now, tr)
}

// signal records a failure detector step read from memberlist's log.
func (v *view) signal(s signal, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[s.node]
	if !ok || e.m.Self || (e.m.State != StateAlive && e.m.State != StateSuspect) {
		return
	}
	switch s.kind {
	case sigDirectMiss:
		e.m.DirectProbeFailed = true
	case sigProbeFailed:
		e.suspectedHere = true
		e.refuteAt = now.Add(v.window(len(v.members)))
		v.move(e, StateSuspect, now, Transition{})
	case sigDeclared:
		e.declared, e.declaredAt, e.confirmations = true, now, s.confirmations
	}
}

// directAck records an ack of this node's direct probe of a member.
func (v *view) directAck(name string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[name]
	if !ok || (e.m.State != StateAlive && e.m.State != StateSuspect) {
		return
	}
	e.m.DirectProbeFailed = false
	e.suspectedHere = false
	v.move(e, StateAlive, now, Transition{})
}

// tick ends suspicions whose window passed, forgets members dead or left
// for longer than forget, and returns the addresses of the dead members.
func (v *view) tick(now time.Time) (dead []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	changed := false
	for name, e := range v.members {
		switch e.m.State {
		case StateSuspect:
			if !now.Before(e.refuteAt) {
				e.suspectedHere = false
				v.move(e, StateAlive, now, Transition{})
			}
		case StateDead, StateLeft:
			if now.Sub(e.m.Since) >= v.forget {
				delete(v.members, name)
				changed = true
				continue
			}
			if e.m.State == StateDead && e.m.Addr != "" {
				dead = append(dead, e.m.Addr)
			}
		}
	}
	if changed {
		v.count()
	}
	slices.Sort(dead)
	return dead
}

// move sets e's state and emits the transition (tr's death details
// included) unless the state is unchanged.
func (v *view) move(e *entry, to State, now time.Time, tr Transition) {
	from := e.m.State
	if from == to {
		return
	}
	e.m.State, e.m.Since = to, now
	tr.Member, tr.From, tr.To, tr.At, tr.HealthScore = e.member(), from, to, now, v.health()
	v.emit(tr)
	v.count()
}

// emit hands tr to the metrics and every subscriber.
func (v *view) emit(tr Transition) {
	v.metrics.transition(tr.Kind())
	for s := range v.subs {
		if s.deliver(tr) {
			v.metrics.droppedOne()
		}
	}
}

// count publishes the number of members per state.
func (v *view) count() {
	var n [StateLeft + 1]int
	for _, e := range v.members {
		n[e.m.State]++
	}
	v.metrics.members(n)
}

// snapshot returns every member, sorted by name.
func (v *view) snapshot() []Member {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Member, 0, len(v.members))
	for _, name := range slices.Sorted(maps.Keys(v.members)) {
		out = append(out, v.members[name].member())
	}
	return out
}

// clusterState folds the states of a cluster's agents: Alive if any is
// alive, else Suspect if any is suspect, else Dead if any is dead, else
// Left if any left, else Unknown.
func (v *view) clusterState(cluster string) State {
	v.mu.Lock()
	defer v.mu.Unlock()
	rank := map[State]int{StateUnknown: 0, StateLeft: 1, StateDead: 2, StateSuspect: 3, StateAlive: 4}
	best := StateUnknown
	for _, e := range v.members {
		if e.m.Role == RoleAgent && e.m.Cluster == cluster && rank[e.m.State] > rank[best] {
			best = e.m.State
		}
	}
	return best
}

// subscribe adds s to the subscribers, unless closeSubscriptions ran.
func (v *view) subscribe(s *Subscription) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return false
	}
	v.subs[s] = struct{}{}
	return true
}

// unsubscribe removes s from the subscribers.
func (v *view) unsubscribe(s *Subscription) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.subs, s)
}

// setNode copies a node's address and metadata into e. Metadata that
// does not decode (a node of an incompatible version) leaves the role,
// cluster and region empty: such a node counts for no cluster.
func (e *entry) setNode(n nodeInfo) {
	e.m.Addr = n.addr
	meta, err := DecodeMeta(n.meta)
	if err != nil {
		meta = Meta{}
	}
	e.m.Role, e.m.Cluster, e.m.Region, e.leaving = meta.Role, meta.Cluster, meta.Region, meta.Leaving
	if !bytes.Equal(e.m.Payload, meta.Payload) {
		e.m.Payload = meta.Payload
	}
}

// member returns a copy of e's Member that shares nothing with e.
func (e *entry) member() Member {
	m := e.m
	m.Payload = bytes.Clone(m.Payload)
	return m
}

// closeSubscriptions closes every subscription and refuses new ones.
func (v *view) closeSubscriptions() {
	v.mu.Lock()
	v.closed = true
	subs := slices.Collect(maps.Keys(v.subs))
	v.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}
