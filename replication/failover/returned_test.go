package failover

import "testing"

// failedOver is the fixture after db-0 lost its lease at at(5) and db-1
// was committed (at(6)) and promoted (at(7)) in epoch 5 at 1000.
func failedOver(changes ...func(*State)) State {
	s := with(changes...)
	s, _ = Step(s, LeaseExpired{Epoch: 4, At: at(5)})
	s, _ = Step(s, PromotionCommitted{Epoch: 5, Primary: "db-1", At: at(6)})
	s, _ = Step(s, Promoted{Replica: "db-1", Epoch: 5, Position: 1000, At: at(7)})
	return s
}

func TestOldPrimaryReturns(t *testing.T) {
	if s := failedOver(); s.Phase.Name != Stable || s.Primary != "db-1" || s.Epoch != 5 || s.Fork != 1000 {
		t.Fatalf("failedOver fixture: %s primary %s epoch %d fork %d", s.Phase.Name, s.Primary, s.Epoch, s.Fork)
	}
	runCases(t, []stepCase{{
		name:      "beyond the fork: stays fenced and rewinds",
		state:     failedOver(),
		when:      PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1200, At: at(10)},
		wantPhase: Stable,
		want:      []string{"Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5"},
	}, {
		name:      "within the fork: stays fenced and follows",
		state:     failedOver(),
		when:      PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1000, At: at(10)},
		wantPhase: Stable,
		want:      []string{"Fence db-0 epoch 5", "Follow db-0 -> db-1 epoch 5"},
	}, {
		name:      "a report claiming the primary role in an older epoch",
		state:     failedOver(),
		when:      PositionReported{Replica: "db-0", Role: RolePrimary, Epoch: 4, Position: 1200, At: at(10)},
		wantPhase: Stable,
		want:      []string{"Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5"},
	}, {
		name:      "a primary from two epochs back rewinds whatever its position",
		state:     failedOver(),
		when:      PrimaryReturned{Replica: "db-0", Epoch: 3, Position: 10, At: at(10)},
		wantPhase: Stable,
		want:      []string{"Fence db-0 epoch 5", "Rewind db-0 -> db-1 epoch 5"},
	}, {
		name:      "a replica claiming the primary role in the current epoch is fenced",
		state:     failedOver(),
		when:      PositionReported{Replica: "db-2", Role: RolePrimary, Epoch: 5, Position: 1000, At: at(10)},
		wantPhase: Stable,
		want:      []string{"Fence db-2 epoch 5", "Rewind db-2 -> db-1 epoch 5"},
	}, {
		name:      "a claim on an epoch etcd has not committed is ignored",
		state:     failedOver(),
		when:      PrimaryReturned{Replica: "db-0", Epoch: 6, Position: 1200, At: at(10)},
		wantPhase: Stable,
	}, {
		name:      "the returned old primary is never promoted back",
		state:     failedOver(bytesBudget(mib)),
		given:     []Event{PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1200, At: at(10)}},
		when:      LeaseExpired{Epoch: 5, At: at(11)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-2 epoch 5->6"},
	}, {
		name:  "once it follows the current primary it is a replica like the others",
		state: failedOver(bytesBudget(mib)),
		given: []Event{
			PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1200, At: at(10)},
			PositionReported{Replica: "db-0", Role: RoleAsyncReplica, Epoch: 5, Position: 1100, At: at(12)},
		},
		when:      LeaseExpired{Epoch: 5, At: at(13)},
		wantPhase: Promoting,
		want:      []string{"CommitPromotion db-0 epoch 5->6"},
	}, {
		name:          "the lost primary reporting before the commit only adds its final position",
		state:         with(bytesBudget(mib), func(s *State) { s.Policy.Mode = Manual }),
		given:         []Event{LeaseExpired{Epoch: 4, At: at(5)}},
		when:          PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1300, At: at(6)},
		wantPhase:     PrimaryLost,
		wantCondition: []string{"to promote db-1 (eu-2) (about 300B lost)"},
	}})
}
