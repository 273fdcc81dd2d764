package failover

import "testing"

// lagging is the fixture with a 16MiB budget, the head at 100MiB, db-1
// unreachable at the head and db-2 48MiB behind, after the lease expired:
// NoCandidate.
func lagging(changes ...func(*State)) State {
	s := with(append([]func(*State){bytesBudget(16 * mib),
		func(s *State) { s.Marks = []Mark{{Position: 100 * mib, At: t0}} },
		set("db-0", func(r *Replica) { r.Position = 100 * mib }),
		set("db-1", func(r *Replica) { r.Position, r.Reachable = 100*mib, false }),
		set("db-2", func(r *Replica) { r.Position = 52 * mib }),
	}, changes...)...)
	s, _ = Step(s, LeaseExpired{Epoch: 4, At: at(5)})
	return s
}

func TestNoCandidate(t *testing.T) {
	if s := lagging(); s.Phase.Name != NoCandidate {
		t.Fatalf("lagging fixture in %s", s.Phase.Name)
	}
	runCases(t, []stepCase{{
		name:      "condition names each replica's reason and the command",
		state:     lagging(),
		when:      Tick{At: at(6)},
		wantPhase: NoCandidate,
		check: func(t *testing.T, s State, _ []Action) {
			want := "primary db-0 (eu-1) lost its lease; no candidate within the RPO budget of 16MiB: " +
				"db-1 (eu-2) is unreachable; db-2 (us-1) is 48MiB behind; " +
				"run `fedctl failover db --accept-data-loss` to promote db-2 (us-1) (about 48MiB lost), or wait for a replica to catch up"
			if s.Condition.Message != want || s.Condition.Reason != ReasonNoCandidate || s.Condition.Status != ConditionTrue {
				t.Errorf("condition %+v\nwant message %q", s.Condition, want)
			}
		},
	}, {
		name:      "a position report within the budget promotes",
		state:     lagging(),
		when:      PositionReported{Replica: "db-2", Role: RoleAsyncReplica, Epoch: 4, Position: 90 * mib, At: at(7)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 4->5"},
	}, {
		name:      "a replica coming back promotes",
		state:     lagging(),
		when:      ReplicaChanged{Replica: "db-1", Cluster: "eu-2", Region: "eu", Healthy: true, Reachable: true, At: at(7)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:      "placement allowing a replica's cluster promotes",
		state:     lagging(set("db-1", func(r *Replica) { r.Reachable, r.Cluster = true, "eu-9" })),
		when:      PlacementChanged{Allowed: []string{"us-1", "eu-9", "eu-1"}, At: at(7)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
	}, {
		name:          "accept-data-loss promotes the best usable replica",
		state:         lagging(),
		when:          FailoverRequested{AcceptDataLoss: true, At: at(8)},
		wantPhase:     Promoting,
		want:          []string{"CommitPromotion db-2 epoch 4->5"},
		wantCondition: []string{"about 48MiB lost"},
	}, {
		name:      "the record of a forced failover carries the estimated loss",
		state:     lagging(),
		given:     []Event{FailoverRequested{AcceptDataLoss: true, At: at(8)}},
		when:      PromotionCommitted{Epoch: 5, Primary: "db-2", At: at(9)},
		wantPhase: Promoting,
		want:      []string{"Promote db-2 epoch 5", "Fence db-0 epoch 5", "Rewind db-0 -> db-2 epoch 5", "Rewind db-1 -> db-2 epoch 5"},
		check: func(t *testing.T, s State, acts []Action) {
			recs := records(acts)
			want := Record{Epoch: 5, Cause: CauseManual, From: "db-0", To: "db-2", DetectedAt: at(5), FencedAt: at(5),
				CommittedAt: at(9), DataLossBytes: 48 * mib, AcceptedDataLoss: true}
			if len(recs) != 1 || recs[0] != want {
				t.Errorf("records %+v, want %+v", recs, want)
			}
		},
	}, {
		name:      "failover without accept-data-loss is refused with the reasons",
		state:     lagging(),
		when:      FailoverRequested{At: at(8)},
		wantPhase: NoCandidate,
		want:      []string{"RefuseFailover: " + lagging().Condition.Message[len("primary db-0 (eu-1) lost its lease; "):]},
	}, {
		name:      "failover to an unreachable replica is refused",
		state:     lagging(),
		when:      FailoverRequested{To: "db-1", AcceptDataLoss: true, At: at(8)},
		wantPhase: NoCandidate,
		want:      []string{"RefuseFailover: db-1 (eu-2) is unreachable"},
	}, {
		name:      "failover to a lagging replica without accept-data-loss is refused",
		state:     lagging(),
		when:      FailoverRequested{To: "db-2", At: at(8)},
		wantPhase: NoCandidate,
		want:      []string{"RefuseFailover: db-2 (us-1) is 48MiB behind (beyond the RPO budget; add --accept-data-loss)"},
	}, {
		name:      "failover to the lost primary is refused",
		state:     lagging(),
		when:      FailoverRequested{To: "db-0", AcceptDataLoss: true, At: at(8)},
		wantPhase: NoCandidate,
		want:      []string{"RefuseFailover: db-0 (eu-1) is the lost primary; it is never promoted back: promote another replica, and switch over to it later"},
	}, {
		name:      "failover while the primary holds its lease is refused",
		state:     fixture(),
		when:      FailoverRequested{AcceptDataLoss: true, At: at(8)},
		wantPhase: Stable,
		want:      []string{"RefuseFailover: primary db-0 (eu-1) holds its lease in epoch 4; move it with `fedctl switchover db`"},
	}, {
		name:          "no usable replica: accept-data-loss would not help, so it is not offered",
		state:         lagging(set("db-2", func(r *Replica) { r.Healthy = false })),
		when:          Tick{At: at(6)},
		wantPhase:     NoCandidate,
		wantCondition: []string{"no replica can be promoted: db-1 (eu-2) is unreachable; db-2 (us-1) is not ready; bring a replica's cluster back"},
	}, {
		name:      "Manual mode: the operator's request promotes within the budget",
		state:     with(func(s *State) { s.Policy.Mode = Manual }),
		given:     []Event{LeaseExpired{Epoch: 4, At: at(5)}},
		when:      FailoverRequested{At: at(8)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-1 epoch 4->5"},
		check: func(t *testing.T, s State, _ []Action) {
			if !s.Phase.Requested || s.Phase.AcceptedDataLoss {
				t.Errorf("phase %+v: want requested without accepted loss", s.Phase)
			}
		},
	}})
}
