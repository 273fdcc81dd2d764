package failover

import (
	"testing"
	"time"
)

// switching is the fixture after a switchover to db-2 was requested at
// at(1) and db-0 confirmed its demotion at 1000 at at(2).
func switching(changes ...func(*State)) State {
	s := with(changes...)
	s, _ = Step(s, SwitchoverRequested{To: Target{Replica: "db-2"}, At: at(1)})
	s, _ = Step(s, Demoted{Replica: "db-0", Epoch: 4, Position: 1000, At: at(2)})
	return s
}

func TestSwitchover(t *testing.T) {
	caughtUp := PositionReported{Replica: "db-2", Role: RoleAsyncReplica, Epoch: 4, Position: 1000, At: at(3)}
	runCases(t, []stepCase{{
		name:          "request demotes the primary",
		state:         fixture(),
		when:          SwitchoverRequested{To: Target{Region: "us"}, At: at(1)},
		wantPhase:     SwitchingOver,
		want:          []string{"Demote db-0 epoch 4"},
		wantCondition: []string{"switchover from db-0 (eu-1) to db-2 (us-1): demoting db-0"},
	}, {
		name:      "target by cluster",
		state:     fixture(),
		when:      SwitchoverRequested{To: Target{Cluster: "eu-2"}, At: at(1)},
		wantPhase: SwitchingOver,
		want:      []string{"Demote db-0 epoch 4"},
		check: func(t *testing.T, s State, _ []Action) {
			if s.Phase.Candidate != "db-1" {
				t.Errorf("target %s, want db-1", s.Phase.Candidate)
			}
		},
	}, {
		name:          "the demotion token starts the catch-up",
		state:         fixture(),
		given:         []Event{SwitchoverRequested{To: Target{Replica: "db-2"}, At: at(1)}},
		when:          Demoted{Replica: "db-0", Epoch: 4, Position: 1000, At: at(2)},
		wantPhase:     SwitchingOver,
		want:          []string{"WaitReplay db-2 to 1000 epoch 4"},
		wantCondition: []string{"waiting for db-2 to replay up to 1000 (at 900)"},
	}, {
		name:      "a report short of the token waits",
		state:     switching(),
		when:      PositionReported{Replica: "db-2", Role: RoleAsyncReplica, Epoch: 4, Position: 999, At: at(3)},
		wantPhase: SwitchingOver,
	}, {
		name:      "the target caught up is committed",
		state:     switching(),
		when:      caughtUp,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
	}, {
		name:      "a target already caught up is committed without waiting",
		state:     fixture(),
		given:     []Event{SwitchoverRequested{To: Target{Replica: "db-1"}, At: at(1)}},
		when:      Demoted{Replica: "db-0", Epoch: 4, Position: 1000, At: at(2)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:      "after the commit the old primary follows without a rewind",
		state:     switching(),
		given:     []Event{caughtUp},
		when:      PromotionCommitted{Epoch: 5, Primary: "db-2", At: at(4)},
		wantPhase: Promoting,
		want:      []string{"Promote db-2 epoch 5", "Follow db-0 -> db-2 epoch 5", "Follow db-1 -> db-2 epoch 5"},
	}, {
		name:      "promoted: stable, no data lost",
		state:     switching(),
		given:     []Event{caughtUp, PromotionCommitted{Epoch: 5, Primary: "db-2", At: at(4)}},
		when:      Promoted{Replica: "db-2", Epoch: 5, Position: 1000, At: at(5)},
		wantPhase: Stable,
		check: func(t *testing.T, s State, acts []Action) {
			want := Record{Epoch: 5, Cause: CauseSwitchover, From: "db-0", To: "db-2", DetectedAt: at(1), FencedAt: at(2),
				CommittedAt: at(4), PromotedAt: at(5)}
			if recs := records(acts); len(recs) != 1 || recs[0] != want {
				t.Errorf("records %+v, want %+v", recs, want)
			}
			if s.Primary != "db-2" || s.Epoch != 5 || s.Replica("db-0").Diverged || s.Replica("db-0").Fenced {
				t.Errorf("primary %s epoch %d, db-0 %+v", s.Primary, s.Epoch, *s.Replica("db-0"))
			}
		},
	}, {
		name:      "refused while failing over",
		state:     fixture(),
		given:     []Event{LeaseExpired{Epoch: 4, At: at(1)}},
		when:      SwitchoverRequested{At: at(2)},
		wantPhase: Promoting,
		want:      []string{"RefuseSwitchover: the promotion of db-1 (eu-2) in epoch 5 is in progress"},
	}, {
		name:      "refused while the primary is lost",
		state:     with(func(s *State) { s.Policy.DetectionGrace = time.Minute }),
		given:     []Event{LeaseExpired{Epoch: 4, At: at(1)}},
		when:      SwitchoverRequested{At: at(2)},
		wantPhase: PrimaryLost,
		want:      []string{"RefuseSwitchover: failing over: primary db-0 (eu-1) lost its lease; a switchover needs a primary that holds its lease"},
	}, {
		name:      "refused during another switchover",
		state:     switching(),
		when:      SwitchoverRequested{At: at(3)},
		wantPhase: SwitchingOver,
		want:      []string{"RefuseSwitchover: a switchover from db-0 (eu-1) to db-2 (us-1) is in progress"},
	}, {
		name:      "refused when the primary is unreachable",
		state:     with(set("db-0", func(r *Replica) { r.Reachable = false })),
		when:      SwitchoverRequested{At: at(1)},
		wantPhase: Stable,
		want:      []string{"RefuseSwitchover: primary db-0 (eu-1) is not ready or unreachable, so it cannot demote cleanly; if it is lost, its lease expiry starts a failover"},
	}, {
		name:      "refused to the primary itself",
		state:     fixture(),
		when:      SwitchoverRequested{To: Target{Replica: "db-0"}, At: at(1)},
		wantPhase: Stable,
		want:      []string{"RefuseSwitchover: db-0 (eu-1) is already the primary"},
	}, {
		name:      "refused to a replica not following the current primary",
		state:     with(set("db-2", func(r *Replica) { r.Epoch = 3 })),
		when:      SwitchoverRequested{To: Target{Region: "us"}, At: at(1)},
		wantPhase: Stable,
		want:      []string{"RefuseSwitchover: no replica can take over: db-2 (us-1) does not follow the primary of epoch 4 yet"},
	}, {
		name:      "refused to a region without replicas",
		state:     fixture(),
		when:      SwitchoverRequested{To: Target{Region: "ap"}, At: at(1)},
		wantPhase: Stable,
		want:      []string{"RefuseSwitchover: no replica matches the target region ap"},
	}, {
		name:          "target lost during the catch-up: a failover without the old primary",
		state:         switching(bytesBudget(mib)),
		when:          ReplicaChanged{Replica: "db-2", Cluster: "us-1", Region: "us", Healthy: true, Reachable: false, At: at(3)},
		wantPhase:     Promoting,
		want:          []string{"CommitPromotion db-1 epoch 4->5"},
		wantCondition: []string{"switchover to db-2 (us-1) aborted: it is unreachable"},
		check: func(t *testing.T, s State, _ []Action) {
			if s.Phase.Cause != CauseSwitchoverAborted || s.Phase.From != "db-0" || !s.Phase.FinalKnown {
				t.Errorf("phase %+v", s.Phase)
			}
		},
	}, {
		name:  "demotion not confirmed in time: the switchover aborts",
		state: with(func(s *State) { s.Policy.StepTimeout = 30 * time.Second; s.Policy.Mode = Manual }),
		given: []Event{SwitchoverRequested{To: Target{Replica: "db-2"}, At: at(1)}},
		when:  Tick{At: at(31)},
		// Manual mode: the operator decides; the lease guard keeps a
		// primary that still holds its lease.
		wantPhase:     PrimaryLost,
		wantCondition: []string{"switchover to db-2 (us-1) aborted: db-0 (eu-1) did not confirm its demotion within 30s", "run `fedctl failover db` to promote db-1 (eu-2)"},
	}, {
		name:      "the demoted primary's lease expiry is expected",
		state:     switching(),
		when:      LeaseExpired{Epoch: 4, At: at(3)},
		wantPhase: SwitchingOver,
	}})
}
