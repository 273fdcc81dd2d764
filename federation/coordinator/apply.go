package coordinator

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

// apply steps the machine with each event in turn, stores the state and
// carries out the actions, in the order the failover package prescribes;
// what the actions lead to (a commit's outcome, a confirmation already
// in) is stepped in turn, until nothing is left.
func (s *session) apply(ctx context.Context, evs ...failover.Event) error {
	if !s.active {
		return nil
	}
	// Each round of follow-ups moves the phase on; a few rounds settle.
	for round := 0; round < maxFollowUps; round++ {
		for len(evs) > 0 {
			ev := evs[0]
			evs = evs[1:]
			next, acts := failover.Step(s.st, ev)
			s.st = next
			if err := s.save(ctx); err != nil {
				return err
			}
			more, err := s.execute(ctx, acts)
			if err != nil {
				return err
			}
			evs = append(evs, more...)
		}
		if evs = s.followUps(); len(evs) == 0 {
			return nil
		}
	}
	return nil
}

// maxFollowUps bounds the rounds of follow-up events of one apply: a
// promotion confirmed and published takes two.
const maxFollowUps = 8

// execute carries out actions in order. Agent commands are collected and
// written together (the latest per replica); a CommitPromotion writes the
// commands before it first, and returns what the commit leads to.
func (s *session) execute(ctx context.Context, acts []failover.Action) ([]failover.Event, error) {
	cmds := map[int]coord.Command{}
	var out []failover.Event
	at := s.now()
	for _, a := range acts {
		switch a := a.(type) {
		case failover.CommitPromotion:
			if err := s.flush(ctx, cmds); err != nil {
				return nil, err
			}
			cmds = map[int]coord.Command{}
			more, err := s.commit(ctx, a)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		case failover.SetCondition:
			s.conditionSet(a.Condition)
		case failover.RecordFailover:
			s.recorded(a.Record)
		case failover.RefuseRequest:
			s.refused[a.Request] = a.Reason
		default:
			if n, c, ok := commandFor(a, &s.st, s.svc.key.Name, at); ok {
				cmds[n] = c
			} else {
				s.log.Info("Cannot address a command", "action", a.String())
			}
		}
	}
	return out, s.flush(ctx, cmds)
}

// flush writes the commands that differ from what etcd holds, in the
// current epoch.
func (s *session) flush(ctx context.Context, cmds map[int]coord.Command) error {
	for n, c := range cmds {
		if have, ok := s.cmds[n]; ok && have.Same(c) {
			delete(cmds, n)
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	if err := s.c.Store.PutCommands(ctx, s.id, s.t.guard, int64(s.st.Epoch), cmds); err != nil {
		return err
	}
	for n, c := range cmds {
		s.cmds[n] = c
		commandsTotal.WithLabelValues(string(c.Kind)).Inc()
	}
	return nil
}

// save stores the state when it changed: at once when anything but
// replication positions changed or a change of primary is under way, else
// at most every SaveInterval.
func (s *session) save(ctx context.Context) error {
	if reflect.DeepEqual(s.st, s.saved) {
		return nil
	}
	at := s.now()
	if s.st.Phase.Name == failover.Stable && reflect.DeepEqual(positionless(s.st), positionless(s.saved)) &&
		at.Sub(s.savedAt) < s.c.Config.SaveInterval {
		return nil
	}
	b, err := failover.Encode(s.st)
	if err != nil {
		return fmt.Errorf("encode the failover state of %s: %w", s.id, err)
	}
	if err := s.c.Store.SaveState(ctx, s.id, s.t.guard, b); err != nil {
		return err
	}
	s.saved, s.savedAt = s.st, at
	return nil
}

// positionless is st without what every report changes.
func positionless(st failover.State) failover.State {
	st.Marks = nil
	st.Replicas = append([]failover.Replica(nil), st.Replicas...)
	for i := range st.Replicas {
		r := &st.Replicas[i]
		r.Position, r.SyncAcked = 0, 0
		r.ReportedAt, r.CaughtUpAt = time.Time{}, time.Time{}
	}
	return st
}
