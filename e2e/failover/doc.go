// Package failover holds the end-to-end tests of failover on the real
// local federation: a hub, three member clusters with one fedstate agent
// each, real PostgreSQL 15 servers as the replicas, the federation etcd and
// a DNS server. Clients find the primary by DNS and write through it while
// regions die, agents restart and primaries are switched over; the tests
// check that acknowledged writes survive and that no two replicas are ever
// writable at once. TestDrill runs the hub's FailoverDrills of every kind
// on one service and checks their verdicts, measures and reports
// (docs/drills.md).
//
// BenchmarkFailover (make bench-failover) measures the failover after the
// loss of the primary's region on the same federation, and the failover of
// a three-node Patroni cluster on loopback after the loss of its leader,
// side by side.
package failover
