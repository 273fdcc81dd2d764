// Package coord keeps fedstate's coordination state in the federation
// etcd: fencing epochs, primaries, primary leases, replica reports, agent
// liveness, the failover state machine's state and the hub leadership.
//
// Connect opens a Store on the configured endpoints or, without any, on an
// embedded single-node etcd (the local default). Agents call StartAgent,
// watch their commands (Watch, DecodeCommand) and call Agent.HoldPrimary
// and Agent.Report; the hub leader calls Campaign and then Snapshot,
// WatchService, Promote, SaveState, PutCommands, PublishDNS and Forget.
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
//	services/<ns>/<svc>/commands/<n>  Command (JSON)            hub (PutCommands)   -
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
// # Commands to agents
//
// The hub leader tells each replica's agent what to do through the
// replica's command key, services/<ns>/<svc>/commands/<n>. The key holds
// the latest command only (level-triggered): an agent that was away reads
// the current one and acts on it, and a command written twice means the
// same thing. The value is JSON (EncodeCommand, DecodeCommand; unknown
// fields are ignored):
//
//	{"kind":"Follow","epoch":5,"primary":1,"cluster":"eu-2","issued":"2026-03-01T12:00:05.1Z"}
//
//	field     meaning
//	kind      Init, Seed, Promote, Follow, Rewind, Fence, Demote, WaitReplay
//	epoch     the fencing epoch the command is valid for (the stored epoch
//	          when written; PutCommands compares it in its transaction)
//	primary   ordinal of the primary of epoch: the replica to copy from or
//	          follow, or the replica itself for Init, Promote and Demote
//	position  WaitReplay only: the position to replay up to
//	cluster   the member cluster the hub placed the replica in
//	issued    the hub's clock when written (for people)
//
// An agent watches the commands of every service (Watch on the prefix,
// keys of KindCommand) and acts on those whose cluster is its own, only
// while the stored epoch equals the command's epoch; an older command
// waits for the next one. What each command asks:
//
//   - Init (epoch 1 only): the service's first primary. Create the
//     database when the replica holds none (an existing one is kept), take
//     the primary lease with HoldPrimary(epoch), open writes while the
//     lease is held, report role Primary in epoch.
//   - Seed: the replica holds no data of the service: copy it from
//     primary (a base backup), then follow primary; report a standby role
//     in epoch. An agent that finds data on primary's history may follow
//     without copying.
//   - Promote: take the primary lease with HoldPrimary(epoch) and only
//     then promote the replica and open writes; report role Primary in
//     epoch: that report confirms the promotion. If HoldPrimary returns
//     ErrFenced the command is stale: stay read-only.
//   - Follow: replicate from primary; a driver that finds its log forked
//     before its own position rewinds first. Report a standby role in
//     epoch once following.
//   - Rewind: stay read-only, discard the log that is not in primary's
//     history (pg_rewind, or a fresh copy when that fails), then follow
//     primary; report a standby role in epoch.
//   - Fence: keep the replica read-only and cut its clients; report role
//     Fenced with the epoch the replica's log belongs to. Seed, Follow and
//     Rewind imply it until the replica follows.
//   - Demote: stop writes, release the primary lease
//     (PrimaryLease.Release) and report role Fenced in epoch with the final
//     position (the demotion token). The hub acts on it once the report is
//     in and the lease key is gone.
//   - WaitReplay: keep following primary and report as soon as the
//     replica replayed up to position, without waiting for the report
//     interval.
//
// A report's Epoch says which primary the replica follows (or is): the
// epoch of the last of these commands carried out, never merely the
// newest epoch the agent has seen, because the hub judges from it whether
// the replica's log is on the current history.
//
// Sessions: the hub leadership uses a concurrency.Session and
// concurrency.Election. Agent sessions and primary leases renew their
// etcd lease with one KeepAliveOnce per Config.RenewInterval instead,
// because the KeepAlive stream under concurrency.Session reports a lost
// lease only after a whole TTL, too late for a holder that must fence
// itself at half of it.
//
// Restarts: an agent that stops for a restart calls Agent.Abandon, which
// stops renewing without revoking anything. When it starts again within the
// TTL, StartAgent takes its live session over and HoldPrimary its live
// primary leases (same name, cluster, replica and epoch): the same etcd
// leases are renewed again, the keys stay, and the hub sees no expiry. A
// restart that takes longer than the TTL looks like a crash.
package coord
