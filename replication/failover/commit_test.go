package failover

import (
	"testing"
	"time"
)

// promoting is the fixture after db-0 lost its lease at at(5): the
// promotion of db-1 to epoch 5 is being committed.
func promoting(changes ...func(*State)) State {
	s, _ := Step(with(changes...), LeaseExpired{Epoch: 4, At: at(5)})
	return s
}

func TestCommitOutcomes(t *testing.T) {
	committed := PromotionCommitted{Epoch: 5, Primary: "db-1", At: at(6)}
	runCases(t, []stepCase{{
		name:      "committed: promote, fence the old primary, the others follow",
		state:     promoting(),
		when:      committed,
		wantPhase: Promoting,
		want:      []string{"Promote db-1 epoch 5", "Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5", "Follow db-2 -> db-1 epoch 5"},
		check: func(t *testing.T, s State, _ []Action) {
			if !s.Phase.Committed || s.Epoch != 5 || s.Primary != "db-1" || s.Fork != 1000 {
				t.Errorf("phase %+v epoch %d primary %s fork %d", s.Phase, s.Epoch, s.Primary, s.Fork)
			}
		},
	}, {
		name: "an unreachable replica ahead of the fork rewinds",
		state: promoting(bytesBudget(mib), set("db-1", func(r *Replica) { r.Position = 990 }),
			set("db-2", func(r *Replica) { r.Position, r.Reachable = 995, false })),
		when:      PromotionCommitted{Epoch: 5, Primary: "db-1", At: at(6)},
		wantPhase: Promoting,
		want:      []string{"Promote db-1 epoch 5", "Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5", "Rewind db-2 -> db-1 epoch 5"},
	}, {
		name:      "re-delivered commit changes nothing",
		state:     promoting(),
		given:     []Event{committed},
		when:      committed,
		wantPhase: Promoting,
	}, {
		name:      "conflict: another leader committed another candidate, which is promoted instead",
		state:     promoting(),
		when:      CommitFailed{Epoch: 5, Primary: "db-2", At: at(6)},
		wantPhase: Promoting,
		want:      []string{"Promote db-2 epoch 5", "Fence db-0 epoch 5", "Rewind db-0 -> db-2 epoch 5", "Rewind db-1 -> db-2 epoch 5"},
		check: func(t *testing.T, s State, acts []Action) {
			if recs := records(acts); len(recs) != 1 || recs[0].Cause != CauseAdopted || recs[0].DataLossBytes != 100 {
				t.Errorf("records %+v", recs)
			}
		},
	}, {
		name:      "conflict on our own commit from before a restart: promoted once",
		state:     promoting(),
		when:      CommitFailed{Epoch: 5, Primary: "db-1", At: at(6)},
		wantPhase: Promoting,
		want:      []string{"Promote db-1 epoch 5", "Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5", "Follow db-2 -> db-1 epoch 5"},
		check: func(t *testing.T, s State, acts []Action) {
			if recs := records(acts); len(recs) != 1 || recs[0].Cause != CauseLeaseExpired {
				t.Errorf("records %+v", recs)
			}
		},
	}, {
		name:      "conflict: the primary regained its lease, so it stays",
		state:     promoting(),
		when:      CommitFailed{Epoch: 4, Primary: "db-0", LeaseHeld: true, At: at(6)},
		wantPhase: Stable,
	}, {
		name:      "conflict on another guard: choose and commit again",
		state:     promoting(),
		when:      CommitFailed{Epoch: 4, Primary: "db-0", At: at(6)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:      "a stale conflict changes nothing",
		state:     failedOver(),
		when:      CommitFailed{Epoch: 4, Primary: "db-0", At: at(9)},
		wantPhase: Stable,
	}, {
		name:      "a commit learned in Stable is adopted",
		state:     fixture(),
		when:      PromotionCommitted{Epoch: 5, Primary: "db-2", At: at(6)},
		wantPhase: Promoting,
		want:      []string{"Promote db-2 epoch 5", "Fence db-0 epoch 5", "Rewind db-0 -> db-2 epoch 5", "Rewind db-1 -> db-2 epoch 5"},
	}, {
		name:          "promotion not confirmed in time: the new primary is lost in turn",
		state:         promoting(bytesBudget(mib), func(s *State) { s.Policy.StepTimeout = 30 * time.Second }),
		given:         []Event{committed},
		when:          Tick{At: at(36)},
		wantPhase:     Promoting,
		want:          []string{"CommitPromotion db-2 epoch 5->6"},
		wantCondition: []string{"db-1 (eu-2), primary in epoch 5, did not confirm its promotion within 30s"},
	}, {
		name:      "the new primary's lease expiring before it confirmed: lost in turn",
		state:     promoting(bytesBudget(mib)),
		given:     []Event{committed},
		when:      LeaseExpired{Epoch: 5, At: at(7)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 5->6"},
	}, {
		name:      "DNS publication completes the record",
		state:     failedOver(),
		when:      DNSPublished{Epoch: 5, At: at(8)},
		wantPhase: Stable,
		check: func(t *testing.T, s State, acts []Action) {
			recs := records(acts)
			if len(recs) != 1 || recs[0].PublishedAt != at(8) || recs[0].RTO() != 3*time.Second {
				t.Errorf("records %+v", recs)
			}
		},
	}})
}

func TestLeaseRenewed(t *testing.T) {
	renewed := LeaseRenewed{Epoch: 4, At: at(7)}
	runCases(t, []stepCase{{
		name:          "during the detection grace: back to Stable, no promotion",
		state:         promoting(func(s *State) { s.Policy.DetectionGrace = 10 * time.Second }),
		when:          renewed,
		wantPhase:     Stable,
		wantCondition: []string{"db-0 (eu-1) is primary in epoch 4"},
	}, {
		name:      "with no candidate: back to Stable",
		state:     lagging(),
		when:      renewed,
		wantPhase: Stable,
	}, {
		name:      "while Manual mode waits: back to Stable",
		state:     promoting(func(s *State) { s.Policy.Mode = Manual }),
		when:      renewed,
		wantPhase: Stable,
	}, {
		name:      "while the commit is in flight the commit decides",
		state:     promoting(),
		when:      renewed,
		wantPhase: Promoting,
	}, {
		name:      "a stale lease expiry is ignored",
		state:     failedOver(),
		when:      LeaseExpired{Epoch: 4, At: at(9)},
		wantPhase: Stable,
	}, {
		name:      "a stale renewal does not end a later failover",
		state:     failedOver(func(s *State) { s.Policy.DetectionGrace = time.Minute }),
		given:     []Event{LeaseExpired{Epoch: 5, At: at(9)}},
		when:      renewed,
		wantPhase: PrimaryLost,
	}})
}
