// Package coord keeps fedstate's coordination state in the federation
// etcd: fencing epochs, primaries, primary leases, replica reports, agent
// liveness, the failover state machine's state and the hub leadership.
//
// Connect opens a Store on the configured endpoints or, without any, on an
// embedded single-node etcd (the local default). Agents call StartAgent
// and then Agent.HoldPrimary and Agent.Report; the hub leader calls
// Campaign and then Snapshot, WatchService, Promote and SaveState.
//
// # Key layout
//
// Under Config.Prefix (default "/fedstate/coord/"); Key.EtcdKey and
// ParseKey are the one place it is written in code:
//
//	key                               value                     written by          bound to
//	leader/<lease ID hex>             hub replica id            hub (Campaign)      leader session
//	agents/<agent>                    AgentInfo (JSON)          agent (StartAgent)  agent session
//	services/<ns>/<svc>/epoch         decimal epoch, from 1     hub (Promote)       -
//	services/<ns>/<svc>/primary       Primary (JSON)            hub (Promote)       -
//	services/<ns>/<svc>/failover      opaque failover state     hub (Promote,       -
//	                                                              SaveState)
//	services/<ns>/<svc>/lease         Holder (JSON)             agent (HoldPrimary) primary lease
//	services/<ns>/<svc>/reports/<n>   Report (JSON)             agent (Report)      agent session
//
// <ns>, <svc> and <agent> are DNS-1123 labels and <n> a replica ordinal in
// canonical decimal. Everything of one service sits under one prefix, so
// Snapshot reads it in one range at one revision.
//
// # Fencing rules
//
//   - The epoch only grows, by one, in Promote. Promote is one transaction
//     comparing the hub leader's election key (its create revision: the
//     tenure), the old epoch and the primary lease key's revision; it
//     writes the new epoch, the new primary, the failover state and the
//     caller's DNS records (dnsserver.Ops, guards included), and deletes
//     the primary lease key. Every guard holds or nothing is written.
//   - SaveState compares the leader tenure in the same transaction: a
//     former leader can never overwrite the state machine's state.
//   - An agent takes the primary lease only while the stored epoch and
//     primary are the ones it was told, and only if no lease is held
//     (HoldPrimary's compares). The lease key is bound to an etcd lease of
//     Config.LeaseTTL that the agent renews itself, so it knows when the
//     server last extended it (PrimaryLease.LastRenewed). The agent keeps
//     the replica writable only until PrimaryLease.WritableUntil (the last
//     renewal plus TTL/2) and while PrimaryLease.Done is open; the hub
//     promotes another replica only once the key is gone
//     (PromoteRequest.LeaseRevision 0): expired, which is never before
//     LastRenewed+TTL, or released by a holder that demoted first. The
//     margin of TTL/2 absorbs clock rate differences and a slow etcd. A
//     promotion that names a live lease (LeaseRevision not 0) deletes its
//     key and so closes the holder's Done, but a partitioned holder learns
//     it only by its own clock: take over a live lease only when its holder
//     is known to be fenced.
//   - Reports and the agent liveness key are bound to the agent's session
//     lease: when an agent stops renewing they vanish, so the hub never
//     picks a candidate from a dead agent's stale report. An Agent writes
//     nothing once its Done is closed, and etcd rejects writes bound to a
//     lease that is gone.
//
// Sessions: the hub leadership uses a concurrency.Session and
// concurrency.Election. Agent sessions and primary leases renew their
// etcd lease with one KeepAliveOnce per Config.RenewInterval instead,
// because the KeepAlive stream under concurrency.Session reports a lost
// lease only after a whole TTL, too late for a holder that must fence
// itself at half of it.
package coord
