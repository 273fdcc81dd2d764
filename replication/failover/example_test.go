package failover_test

import (
	"fmt"
	"time"

	"github.com/fedstate/fedstate/replication/failover"
)

func ExampleStep() {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := failover.State{
		Service: "db",
		Policy:  failover.Policy{Mode: failover.Automatic, SyncReplicas: 1},
		Epoch:   4, Primary: "db-0", Phase: failover.Phase{Name: failover.Stable},
		Allowed: []string{"eu-1", "eu-2", "us-1"},
		Replicas: []failover.Replica{
			{Name: "db-0", Cluster: "eu-1", Region: "eu", Healthy: true, Reachable: true},
			{Name: "db-1", Cluster: "eu-2", Region: "eu", Healthy: true, Reachable: true},
			{Name: "db-2", Cluster: "us-1", Region: "us", Healthy: true, Reachable: true},
		},
	}
	events := []failover.Event{
		failover.PositionReported{Replica: "db-1", Role: failover.RoleSyncStandby, Epoch: 4, Position: 990, At: t0},
		failover.PositionReported{Replica: "db-2", Role: failover.RoleAsyncReplica, Epoch: 4, Position: 900, At: t0},
		failover.PositionReported{Replica: "db-0", Role: failover.RolePrimary, Epoch: 4, Position: 1000,
			SyncAcks: []failover.SyncAck{{Replica: "db-1", Position: 1000}}, At: t0.Add(time.Second)},
		failover.LeaseExpired{Epoch: 4, At: t0.Add(10 * time.Second)},
		failover.PromotionCommitted{Epoch: 5, Primary: "db-1", At: t0.Add(11 * time.Second)},
		failover.Promoted{Replica: "db-1", Epoch: 5, Position: 1000, At: t0.Add(12 * time.Second)},
	}
	for _, ev := range events {
		var acts []failover.Action
		s, acts = failover.Step(s, ev)
		for _, a := range acts {
			if c, ok := a.(failover.SetCondition); ok {
				fmt.Printf("  condition %s=%s %s\n", c.Condition.Type, c.Condition.Status, c.Condition.Reason)
				continue
			}
			fmt.Println(" ", a)
		}
		fmt.Println(s.Phase.Name)
	}
	fmt.Println("RTO", s.History[0].RTO())
	// Output:
	//   condition FailingOver=False PrimaryHealthy
	// Stable
	// Stable
	// Stable
	//   CommitPromotion db-1 epoch 4->5
	//   condition FailingOver=True Promoting
	// Promoting
	//   Promote db-1 epoch 5
	//   Fence db-0 epoch 5
	//   Rewind db-0 -> db-1 epoch 5
	//   Follow db-2 -> db-1 epoch 5
	//   RecordFailover epoch 5 LeaseExpired db-0->db-1 loss 0
	//   condition FailingOver=True Promoting
	// Promoting
	//   RecordFailover epoch 5 LeaseExpired db-0->db-1 loss 0
	//   condition FailingOver=False PrimaryHealthy
	// Stable
	// RTO 2s
}
