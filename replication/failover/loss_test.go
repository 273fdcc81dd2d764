package failover

import (
	"testing"
	"time"
)

func TestLossMeasured(t *testing.T) {
	returned := PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1200, At: at(10)}
	measured := LossMeasured{Replica: "db-0", Epoch: 5, Bytes: 4096, Transactions: 3, At: at(11)}
	// lossOf checks the measurement of the record of epoch, and that the
	// event emitted the record when it changed.
	lossOf := func(epoch uint64, bytes, txs uint64, when time.Time, emitted bool) func(*testing.T, State, []Action) {
		return func(t *testing.T, s State, acts []Action) {
			t.Helper()
			for _, rec := range s.History {
				if rec.Epoch != epoch {
					continue
				}
				if rec.MeasuredLossBytes != bytes || rec.LostTransactions != txs || !rec.LossMeasuredAt.Equal(when) {
					t.Errorf("record of epoch %d: measured %d bytes, %d transactions at %v; want %d, %d at %v",
						epoch, rec.MeasuredLossBytes, rec.LostTransactions, rec.LossMeasuredAt, bytes, txs, when)
				}
			}
			if recs := records(acts); emitted != (len(recs) == 1 && recs[0].Epoch == epoch && recs[0].LostTransactions == txs) {
				t.Errorf("records emitted %+v; want the record of epoch %d: %v", recs, epoch, emitted)
			}
		}
	}
	runCases(t, []stepCase{{
		name:      "the returned old primary's measurement goes to the failover that replaced it",
		state:     failedOver(),
		given:     []Event{returned},
		when:      measured,
		wantPhase: Stable,
		check:     lossOf(5, 4096, 3, at(11), true),
	}, {
		name:      "even when its agent restarted and reports no epoch",
		state:     failedOver(),
		given:     []Event{PositionReported{Replica: "db-0", Role: RoleFenced, Epoch: 0, Position: 1200, At: at(10)}},
		when:      measured,
		wantPhase: Stable,
		check:     lossOf(5, 4096, 3, at(11), true),
	}, {
		name:      "the first measurement stands",
		state:     failedOver(),
		given:     []Event{returned, measured},
		when:      LossMeasured{Replica: "db-0", Epoch: 5, Bytes: 1, Transactions: 1, At: at(12)},
		wantPhase: Stable,
		check:     lossOf(5, 4096, 3, at(11), false),
	}, {
		name:      "once it reported following the new primary, a measurement is another history's",
		state:     failedOver(),
		given:     []Event{returned, PositionReported{Replica: "db-0", Role: RoleAsyncReplica, Epoch: 5, Position: 1300, At: at(11)}},
		when:      measured,
		wantPhase: Stable,
		check:     lossOf(5, 0, 0, time.Time{}, false),
	}, {
		name:      "a replica that was never replaced as primary lost nothing of its own",
		state:     failedOver(),
		when:      LossMeasured{Replica: "db-2", Epoch: 5, Bytes: 100, Transactions: 1, At: at(11)},
		wantPhase: Stable,
		check:     lossOf(5, 0, 0, time.Time{}, false),
	}, {
		name:      "a measurement from before the failover",
		state:     failedOver(),
		given:     []Event{returned},
		when:      LossMeasured{Replica: "db-0", Epoch: 4, Bytes: 100, Transactions: 1, At: at(11)},
		wantPhase: Stable,
		check:     lossOf(5, 0, 0, time.Time{}, false),
	}, {
		name:      "a measurement in an epoch etcd has not committed",
		state:     failedOver(),
		given:     []Event{returned},
		when:      LossMeasured{Replica: "db-0", Epoch: 6, Bytes: 100, Transactions: 1, At: at(11)},
		wantPhase: Stable,
		check:     lossOf(5, 0, 0, time.Time{}, false),
	}, {
		name:  "after a later failover it still goes to the one that replaced it",
		state: failedOver(),
		given: []Event{
			LeaseExpired{Epoch: 5, At: at(20)},
			PromotionCommitted{Epoch: 6, Primary: "db-2", At: at(21)},
			PrimaryReturned{Replica: "db-0", Epoch: 4, Position: 1200, At: at(22)},
		},
		when:      LossMeasured{Replica: "db-0", Epoch: 6, Bytes: 4096, Transactions: 3, At: at(23)},
		wantPhase: Promoting,
		want:      []string{},
		check:     lossOf(5, 4096, 3, at(23), true),
	}})
}
