// Package postgres is fedstate's PostgreSQL 15 replication driver: it
// manages one local PostgreSQL server, the replica of a federated service
// that runs in this pod, and turns the failover protocol's steps into
// PostgreSQL operations.
//
// The member agent makes one Instance per replica with New(cfg). Each
// server has its own data directory and Unix socket directory and listens
// on the pod's IP, port 5432 by default. PostgreSQL refuses to run as
// root, so when the agent is root the programs (initdb, pg_ctl,
// pg_controldata, pg_basebackup, pg_rewind, postgres) run as Config.OSUser
// and the directories and files the Instance writes belong to that user.
// The Instance speaks SQL (pgx) to its own server as the superuser over
// the Unix socket, whose directory only that user and root can enter;
// standbys connect over TCP as the replication user, with a password or,
// from loopback only, trusted.
//
// # How the agent uses it
//
//   - The first primary of a service: Init (initdb with data checksums,
//     the replication role, the settings streaming and pg_rewind need), Start,
//     ConfigurePrimary with the standbys to keep slots for and the
//     synchronous quorum.
//   - A new replica, or one whose ordinal moved to another cluster: Seed
//     copies the primary with pg_basebackup and starts it as a standby; it
//     returns once the copy is complete and the server consistent, which is
//     what the hub's "data ready" gate waits for.
//   - Every few seconds: Status, whose positions (Status.Position) and lags
//     the agent reports, so the hub can pick the most advanced candidate.
//   - Losing the lease: Fence (read-only, client sessions cut, the server
//     and its replication kept up), or Stop(StopImmediate) as the hard
//     fence; Unfence when the lease is held again.
//   - Failover, on the candidate: Promote(sync). On the others: Follow(new
//     primary, SlotName(own name)), which reports the path taken (none,
//     rewind or basebackup) and, for a diverged log, what it held beyond
//     the new primary's history, measured before the repair (LostLog: the
//     bytes and committed transactions a failover lost).
//   - Planned switchover: Demote on the primary returns the demotion token,
//     WaitReplay(token) on the target, Promote on the target, Follow on the
//     old primary, which then needs no rewind.
//
// # What each operation guarantees
//
// Init, Start, Stop, Fence, Demote, Promote, Follow and Seed are
// idempotent: run again, they find the work done and change nothing more.
// Every operation takes a context and bounds each program and each SQL
// exchange with a timeout of Config; errors are wrapped with what was
// being done and to which replica, and the sentinel errors (ErrNotRunning,
// ErrNoCluster, ErrNotStandby, ErrNotPrimary) are matched with errors.Is.
//
//   - Start returns when the server accepts connections; Stop when it is
//     down. StopFast lets standbys receive all the log; StopImmediate writes
//     and sends nothing more.
//   - ConfigurePrimary (and Promote, Unfence) returns when sessions that
//     start from then on see the new synchronous_standby_names, so no
//     commit after it is acknowledged with fewer confirmations than asked.
//   - Fence returns when new sessions default to read-only, every client
//     session that existed is gone, and commits are no longer acknowledged
//     (see Fence for what a client can still override and why the epoch is
//     the real guard). Replication connections stay, so the standbys catch
//     up with everything the fenced primary wrote.
//   - Demote returns a token that a standby reaches only after replaying
//     everything the old primary wrote, its shutdown checkpoint included.
//   - Promote returns when the server is writable, with the new timeline and
//     where it began; the first commit already follows the given SyncSpec.
//   - Follow and Seed return with the server running as a standby of the
//     given primary whose log is a prefix of the primary's history:
//     unchanged (none), rewound with pg_rewind (rewind), or copied afresh
//     (basebackup). They never copy over data they could keep.
//   - WaitReplay returns when the standby has replayed up to the position.
//
// LSN is a log position, printed and parsed as the server does
// ("16/B374D848").
package postgres
