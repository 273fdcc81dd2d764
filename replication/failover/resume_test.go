package failover

import (
	"reflect"
	"testing"
	"time"
)

// TestResume feeds a stored state and Resume, as a new hub leader does, for
// each phase: it must re-emit exactly the actions the phase still needs,
// and the condition.
func TestResume(t *testing.T) {
	grace := func(s *State) { s.Policy.DetectionGrace = time.Minute }
	mustCondition := func(t *testing.T, s State, acts []Action) {
		for _, a := range acts {
			if c, ok := a.(SetCondition); ok && c.Condition == s.Condition {
				return
			}
		}
		t.Errorf("no SetCondition with the state's condition in %v", acts)
	}
	resume := Resume{At: at(8)}
	runCases(t, []stepCase{{
		name:      "Stable, every replica follows: nothing but the condition",
		state:     fixture(),
		when:      resume,
		wantPhase: Stable,
		check:     mustCondition,
	}, {
		name:      "Stable after a failover: the replicas that did not confirm are told again",
		state:     failedOver(),
		when:      resume,
		wantPhase: Stable,
		want:      []string{"Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5", "Follow db-2 -> db-1 epoch 5"},
		check: func(t *testing.T, s State, acts []Action) {
			mustCondition(t, s, acts)
			if recs := records(acts); len(recs) != 1 || recs[0].Epoch != 5 {
				t.Errorf("records %+v", recs)
			}
		},
	}, {
		name:      "Stable after a failover: a replica that confirmed is left alone",
		state:     failedOver(),
		given:     []Event{PositionReported{Replica: "db-2", Role: RoleAsyncReplica, Epoch: 5, Position: 1000, At: at(7.5)}},
		when:      resume,
		wantPhase: Stable,
		want:      []string{"Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5"},
	}, {
		name:      "PrimaryLost during the grace: nothing to do yet",
		state:     promoting(grace),
		when:      resume,
		wantPhase: PrimaryLost,
		check:     mustCondition,
	}, {
		name:      "PrimaryLost whose grace ended while no leader ran: the choice is made",
		state:     promoting(func(s *State) { s.Policy.DetectionGrace = 2 * time.Second }),
		when:      resume,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:      "PrimaryLost in Manual mode: still waiting for the operator",
		state:     promoting(func(s *State) { s.Policy.Mode = Manual }),
		when:      resume,
		wantPhase: PrimaryLost,
	}, {
		name:      "NoCandidate: still none",
		state:     lagging(),
		when:      resume,
		wantPhase: NoCandidate,
		check:     mustCondition,
	}, {
		name:      "Promoting before the commit: the guarded commit again",
		state:     promoting(),
		when:      resume,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:      "Promoting after the commit: the promotion and the followers again",
		state:     promoting(),
		given:     []Event{PromotionCommitted{Epoch: 5, Primary: "db-1", At: at(6)}},
		when:      resume,
		wantPhase: Promoting,
		want:      []string{"Promote db-1 epoch 5", "Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5", "Follow db-2 -> db-1 epoch 5"},
		check: func(t *testing.T, s State, acts []Action) {
			if recs := records(acts); len(recs) != 1 || recs[0].Epoch != 5 {
				t.Errorf("records %+v", recs)
			}
		},
	}, {
		name:      "SwitchingOver, demoting: the demotion again",
		state:     fixture(),
		given:     []Event{SwitchoverRequested{To: Target{Replica: "db-2"}, At: at(1)}},
		when:      resume,
		wantPhase: SwitchingOver,
		want:      []string{"Demote db-0 epoch 4"},
	}, {
		name:      "SwitchingOver, catching up: the wait again",
		state:     switching(),
		when:      resume,
		wantPhase: SwitchingOver,
		want:      []string{"WaitReplay db-2 to 1000 epoch 4"},
	}})
}

// TestResumeIsIdempotent resumes every phase twice: the second Resume
// emits the same actions and leaves the state as the first did.
func TestResumeIsIdempotent(t *testing.T) {
	states := map[string]State{
		"stable": fixture(), "failed over": failedOver(), "promoting": promoting(), "no candidate": lagging(),
		"switching": switching(), "grace": promoting(func(s *State) { s.Policy.DetectionGrace = time.Minute }),
	}
	for name, s := range states {
		t.Run(name, func(t *testing.T) {
			s1, a1 := Step(s, Resume{At: at(8)})
			s2, a2 := Step(s1, Resume{At: at(8)})
			if !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(a1, a2) {
				t.Errorf("second resume differs:\n%v\n%v", a1, a2)
			}
		})
	}
}
