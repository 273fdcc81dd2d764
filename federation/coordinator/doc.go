// Package coordinator is the hub's failover coordinator and DNS publisher.
// It keeps exactly one writable primary for every FederatedStatefulSet in
// PrimaryReplica mode by driving the pure state machine of
// replication/failover, and publishes every service's DNS records.
//
// A Coordinator is set up on the hub's manager (SetupWithManager): a
// controller tracks the services and member clusters, and a runnable
// campaigns for the leadership in the federation etcd (coord.Campaign).
// While the hub holds it — and controller-runtime's leader election, which
// starts both — every service in PrimaryReplica mode has a session, one
// goroutine that:
//
//   - loads the service's coordination state (coord.Snapshot) and the
//     stored failover state, catches it up with etcd and the service's
//     object and steps it with Resume; a service without an epoch waits
//     until its replicas are placed, then commits its first primary
//     (failover.Bootstrap) in epoch 1;
//   - turns changes of its etcd keys (watch), of its object and of the
//     member clusters (view.go, changes.go), operator requests
//     (requests.go) and a ticker into failover events;
//   - after each Step stores the state (coord.SaveState, guarded by the
//     etcd tenure) and carries out the actions: CommitPromotion as one
//     coord.Promote transaction with the DNS primary record and the failover
//     state as it is once committed (commit.go); agent actions as command
//     records (commands.go, coord.PutCommands); conditions, failover records
//     and request outcomes into the status (status.go) and events;
//   - writes the replica and service DNS records the state and the
//     placement call for (dns.go); the primary record changes only in the
//     promotion transaction.
//
// Services in other replication modes get their DNS records from the
// controller directly (plain.go); a deleted service's coordination keys
// and DNS records are removed (coord.Store.Forget).
//
// The pure parts — the view of a service, the events its changes make, the
// requests, the commands, the status projection and the DNS records — take
// values and return values and have table tests; the sessions are tested
// against a real kube-apiserver and etcd with simulated agents.
// docs/failover.md describes the protocol as built, the command records,
// the annotations, the status, the metrics and the events.
package coordinator
