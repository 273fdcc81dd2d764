// Package failover is the failover state machine of one service in
// PrimaryReplica mode: a pure step function
//
//	Step(s State, ev Event) (State, []Action)
//
// It does no I/O, reads no clock (every event carries its time, At) and
// does not log: what it decided and why is in the returned State (its
// Condition) and Actions. It imports no Kubernetes, etcd or gossip library
// and not the API package; the hub converts.
//
// # The executor
//
// The hub leader's failover coordinator runs the machine. For each event
// (an etcd watch on leases and epochs, agents' reports, the member
// registry, operator requests, a periodic Tick) it calls Step, stores the
// new State in etcd (Encode), then carries out the actions in order:
// CommitPromotion becomes one etcd transaction, the other agent actions
// become commands for the agents, SetCondition and RecordFailover become
// status writes. It feeds back what happened as events. A new leader reads
// the State and steps it with Resume, which re-emits exactly the actions
// the phase still needs; since every action carries the epoch it is valid
// for, carrying one out twice is harmless.
//
// # The protocol
//
// Stable: the committed primary of Epoch holds its etcd lease; its agent
// fences it before the lease can expire when it loses etcd.
//
// LeaseExpired moves to PrimaryLost. After the detection grace the machine
// judges every other replica: it must be reachable, ready, in a cluster
// placement allows, not a fenced old primary, on the current history (not
// diverged) and have reported a position. The estimated loss is the head
// (the furthest position of the current history seen) minus the
// replica's position; it must be zero or within the RPO budget, in bytes
// and in time (how long before the head the replica was last seen holding
// everything). The best acceptable replica is a synchronous standby that
// acknowledged the head (zero loss even for commits the hub has not seen);
// among several, SyncScope prefers those in the lost primary's region
// (SameRegion) or outside it (OtherRegion); then the furthest position;
// then the name, ordinals compared as numbers. The lost primary is never
// a candidate.
//
// In Automatic mode the machine emits CommitPromotion and moves to
// Promoting; in Manual mode it stays in PrimaryLost with a condition that
// names the candidate and the command. With no acceptable replica it moves
// to NoCandidate with a condition that gives each replica's reason and
// what a person can do; a later report, health or placement change that
// makes a replica acceptable promotes it, and FailoverRequested with
// AcceptDataLoss promotes the best usable replica whatever the budget.
// LeaseRenewed before a commit returns to Stable.
//
// CommitPromotion is guarded by the old epoch and by no primary lease
// being held. PromotionCommitted (or a CommitFailed that shows a newer
// epoch: another leader won) is the only way the epoch and the primary
// change; only then is Promote emitted, with Follow for the replicas whose
// log is a prefix of the new history, Rewind for those that may have
// diverged, and Fence for the lost primary. Promoted returns to Stable. A
// CommitFailed with the lease held returns to Stable; otherwise the
// machine chooses again.
//
// A service that never had a primary starts with Bootstrap: the executor
// chooses the first primary (placement's preferred region) and Bootstrap
// asks to commit it in epoch 1 with cause Bootstrap; the commit then runs
// as above, and the others are told to Follow (the executor tells a
// replica with no data to seed itself instead).
//
// A planned switchover (SwitchoverRequested, only from Stable) emits
// Demote; Demoted carries the old primary's final position, the demotion
// token; the machine emits WaitReplay and commits the target once it
// reports that position, so nothing is lost, and the old primary follows
// without a rewind. If the target cannot take over, or the demotion is not
// confirmed within StepTimeout, the switchover aborts into a failover.
//
// An old primary that returns (PrimaryReturned, or a report claiming the
// primary role in an older epoch) is told to stay fenced and to Rewind, or
// Follow when its log ends within the new history; it is never promoted
// back automatically.
//
// # Example
//
// db-0 in eu-1 is primary in epoch 4 at position 1000; db-1 (eu-2) is a
// synchronous standby that acknowledged 1000; db-2 (us-1) is at 900. The
// lease expires:
//
//	s, acts := failover.Step(s, failover.LeaseExpired{Epoch: 4, At: t0})
//	// acts: CommitPromotion db-1 epoch 4->5, SetCondition FailingOver=True Promoting
//	s, acts = failover.Step(s, failover.PromotionCommitted{Epoch: 5, Primary: "db-1", At: t1})
//	// acts: Promote db-1 epoch 5, Fence db-0 epoch 5, Rewind db-0 -> db-1 epoch 5,
//	//       Follow db-2 -> db-1 epoch 5, RecordFailover epoch 5, SetCondition Promoting
//	s, acts = failover.Step(s, failover.Promoted{Replica: "db-1", Epoch: 5, Position: 1000, At: t2})
//	// Stable; acts: RecordFailover (promoted at t2), SetCondition FailingOver=False
//
// ExampleStep runs this example.
package failover
