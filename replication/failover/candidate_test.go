package failover

import (
	"testing"
	"time"
)

func TestCandidateChoice(t *testing.T) {
	lease := LeaseExpired{Epoch: 4, At: at(5)}
	lossIs := func(want uint64) func(*testing.T, State, []Action) {
		return func(t *testing.T, s State, _ []Action) {
			if s.Phase.LossBytes != want {
				t.Errorf("estimated loss %d, want %d", s.Phase.LossBytes, want)
			}
		}
	}
	runCases(t, []stepCase{{
		name:          "caught-up replica is promoted with no loss",
		state:         fixture(),
		when:          lease,
		wantPhase:     Promoting,
		want:          []string{"CommitPromotion db-1 epoch 4->5"},
		wantCondition: []string{"primary db-0 (eu-1) lost its lease", "committing db-1 (eu-2) as primary in epoch 5 (no data loss)"},
		check:         lossIs(0),
	}, {
		name:      "equal positions: the lower ordinal wins",
		state:     with(set("db-2", func(r *Replica) { r.Position = 1000 })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name: "ordinals compare as numbers: db-2 before db-10",
		state: with(func(s *State) {
			s.Replicas = append(s.Replicas, rep("db-10", "eu-2", "eu", RoleAsyncReplica, 1000))
		}, set("db-1", func(r *Replica) { r.Healthy = false }), set("db-2", func(r *Replica) { r.Position = 1000 })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
	}, {
		name:      "highest position within the budget",
		state:     with(bytesBudget(mib), set("db-1", func(r *Replica) { r.Position = 950 }), set("db-2", func(r *Replica) { r.Position = 980 })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
		check:     lossIs(20),
	}, {
		name: "sync standby that acknowledged the head beats an async replica as far",
		state: with(func(s *State) { s.Policy.SyncReplicas = 1 },
			set("db-2", func(r *Replica) { r.Role, r.SyncAcked = RoleSyncStandby, 1000 })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
		check:     lossIs(0),
	}, {
		name: "OtherRegion: the sync standby outside the lost primary's region",
		state: with(func(s *State) { s.Policy.SyncReplicas, s.Policy.SyncScope = 2, SyncOtherRegion },
			set("db-1", func(r *Replica) { r.SyncAcked = 1000 }), set("db-2", func(r *Replica) { r.SyncAcked = 1000 })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
	}, {
		name: "SameRegion: the sync standby in the lost primary's region",
		state: with(func(s *State) { s.Policy.SyncReplicas, s.Policy.SyncScope = 2, SyncSameRegion },
			set("db-1", func(r *Replica) { r.Region, r.SyncAcked = "ap", 1000 }),
			set("db-2", func(r *Replica) { r.Region, r.SyncAcked = "eu", 1000 })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
	}, {
		name: "Any: sync standbys in name order",
		state: with(func(s *State) { s.Policy.SyncReplicas, s.Policy.SyncScope = 2, SyncAny },
			set("db-1", func(r *Replica) { r.Region, r.SyncAcked = "ap", 1000 }),
			set("db-2", func(r *Replica) { r.Region, r.SyncAcked = "eu", 1000 })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:          "no RPO budget: a replica 10 bytes behind is not promoted",
		state:         with(set("db-1", func(r *Replica) { r.Position = 990 })),
		when:          lease,
		wantPhase:     NoCandidate,
		wantCondition: []string{"no candidate with no data loss (no RPO budget is set): db-1 (eu-2) is 10B behind; db-2 (us-1) is 100B behind"},
	}, {
		name: "byte budget: 10MiB behind is within 16MiB",
		state: with(bytesBudget(16*mib), func(s *State) { s.Marks = []Mark{{Position: 100 * mib, At: t0}} },
			set("db-1", func(r *Replica) { r.Position = 90 * mib }), set("db-2", func(r *Replica) { r.Position = 52 * mib })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
		check:     lossIs(10 * mib),
	}, {
		name: "time budget: the replica seen caught up recently, though further behind in bytes",
		state: with(timeBudget(5*time.Second),
			set("db-1", func(r *Replica) { r.Position, r.CaughtUpAt = 990, t0.Add(-10*time.Second) }),
			set("db-2", func(r *Replica) { r.Position, r.CaughtUpAt = 900, t0.Add(-time.Second) })),
		when:      lease,
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
	}, {
		name:          "time budget: a replica never seen caught up is rejected",
		state:         with(timeBudget(time.Hour), set("db-1", func(r *Replica) { r.Position, r.CaughtUpAt = 990, time.Time{} }), set("db-2", func(r *Replica) { r.Healthy = false })),
		when:          lease,
		wantPhase:     NoCandidate,
		wantCondition: []string{"db-1 (eu-2) is 10B behind and was never seen caught up"},
	}, {
		name:          "detection grace: nothing is chosen before it is over",
		state:         with(func(s *State) { s.Policy.DetectionGrace = 10 * time.Second }),
		given:         []Event{lease},
		when:          Tick{At: at(14.9)},
		wantPhase:     PrimaryLost,
		wantCondition: []string{"waiting out the detection grace of 10s"},
	}, {
		name:      "detection grace: the candidate is chosen once it is over",
		state:     with(func(s *State) { s.Policy.DetectionGrace = 10 * time.Second }),
		given:     []Event{lease},
		when:      Tick{At: at(15)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:          "Manual mode names the candidate and the command",
		state:         with(func(s *State) { s.Policy.Mode = Manual }),
		when:          lease,
		wantPhase:     PrimaryLost,
		wantCondition: []string{"failover is Manual: run `fedctl failover db` to promote db-1 (eu-2) (no data loss)"},
		check: func(t *testing.T, s State, _ []Action) {
			if s.Condition.Reason != ReasonWaitingForOperator {
				t.Errorf("reason %s", s.Condition.Reason)
			}
		},
	}, {
		name:      "the lost primary is never a candidate, and its final position counts",
		state:     with(bytesBudget(mib), func(s *State) { s.Policy.DetectionGrace = 10 * time.Second }),
		given:     []Event{lease, PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1200, At: at(6)}},
		when:      Tick{At: at(15)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
		check:     lossIs(200),
	}})
}

func TestUnusableReplicasAreSkipped(t *testing.T) {
	for reason, change := range map[string]func(*Replica){
		"unreachable":     func(r *Replica) { r.Reachable = false },
		"not ready":       func(r *Replica) { r.Healthy = false },
		"not allowed":     func(r *Replica) { r.Cluster = "eu-9" },
		"fenced":          func(r *Replica) { r.Fenced = true },
		"diverged":        func(r *Replica) { r.Epoch, r.Diverged = 3, true },
		"newer epoch":     func(r *Replica) { r.Epoch = 5 },
		"never reported":  func(r *Replica) { r.ReportedAt = time.Time{} },
		"two epochs back": func(r *Replica) { r.Epoch = 2; r.Diverged = true },
	} {
		t.Run(reason, func(t *testing.T) {
			s, acts := run(t, with(bytesBudget(mib), set("db-1", change)), LeaseExpired{Epoch: 4, At: at(5)})
			if got := commands(acts); len(got) != 1 || got[0] != "CommitPromotion db-2 epoch 4->5" {
				t.Fatalf("commands %q, want db-2 promoted (condition: %s)", got, s.Condition.Message)
			}
		})
	}
}
