package agent

import (
	"context"
	"errors"
	"net/netip"
)

// Driver runs the database server of one local replica for the agent: the
// replication driver's side of the failover protocol. Every method is
// idempotent (run again, it finds the work done) and may block up to the
// driver's own timeouts and ctx. The PostgreSQL driver (NewPostgres) is the
// first; a driver for another database implements the same steps.
type Driver interface {
	// Init creates the service's first database when the replica holds
	// none and starts it as a writable primary.
	Init(ctx context.Context) error
	// Start starts the server on the data it holds.
	Start(ctx context.Context) error
	// Stop stops the server; hard stops it without a clean shutdown.
	Stop(ctx context.Context, hard bool) error
	// Status reports the server's role and position; ErrNotRunning when it
	// is down.
	Status(ctx context.Context) (Status, error)
	// Follow makes the server a standby of primary, copying the data when
	// it has none or when its log cannot be rewound onto primary's
	// history, and returns what it had to do and, when the log had
	// diverged, what it held beyond primary's history, measured before
	// the repair. The measurement may come with an error: the repair
	// failed after it.
	Follow(ctx context.Context, primary Endpoint) (FollowResult, error)
	// Promote makes a standby the writable primary, replicating as sync
	// says from its first commit; on a primary it lifts a fence.
	Promote(ctx context.Context, sync SyncSpec) error
	// ConfigurePrimary changes a primary's standbys and synchronous quorum.
	ConfigurePrimary(ctx context.Context, sync SyncSpec) error
	// Fence makes a primary refuse writes and cuts its clients, keeping it
	// up so that standbys receive all it wrote.
	Fence(ctx context.Context) error
	// Unfence lifts Fence; the caller holds the primary lease again.
	Unfence(ctx context.Context, sync SyncSpec) error
	// Demote stops a primary cleanly for a planned switchover and returns
	// its final position, the demotion token.
	Demote(ctx context.Context) (uint64, error)
	// WaitReplay waits until a standby replayed up to position.
	WaitReplay(ctx context.Context, position uint64) error
	// DataDir is where the replica's data lives (the watchdog finds the
	// server's process through it).
	DataDir() string
}

// ErrNotRunning is returned by Driver.Status when the server is down.
var ErrNotRunning = errors.New("agent: replica's server is not running")

// Endpoint is where a replica's server accepts replication connections.
type Endpoint struct {
	Addr netip.Addr
	Port uint16
}

// FollowResult is what Driver.Follow did.
type FollowResult struct {
	// Path is what following took: "none", "rewind" or "basebackup".
	Path string
	// Lost is what the replica's log held beyond the primary's history,
	// measured before the driver repaired it; nil when the log had not
	// diverged or could not be measured.
	Lost *Lost
}

// Lost is the log a diverged replica held beyond the point where the
// primary's history forked from it: the writes of an old primary after
// the position the new primary was promoted at, which no primary has now.
type Lost struct {
	// Timeline is the replica's history at the fork (a PostgreSQL
	// timeline).
	Timeline uint64
	// Fork is the position where the primary's history left it.
	Fork uint64
	// Bytes is how much log the replica held past Fork.
	Bytes uint64
	// Transactions is how many transactions that log committed.
	Transactions uint64
}

// SyncSpec is a primary's replication setup.
type SyncSpec struct {
	// Standbys are the names of every other replica of the service: the
	// primary keeps log for each.
	Standbys []string
	// Synchronous are the names, among Standbys, that may confirm commits.
	Synchronous []string
	// Quorum is how many of Synchronous must confirm each commit; 0 is
	// asynchronous replication.
	Quorum int
}

// Status is what a replica's server says of itself.
type Status struct {
	// Primary is true for a primary, false for a standby.
	Primary bool
	// Writable: a primary accepting writes (not fenced).
	Writable bool
	// Fenced: a primary fenced read-only.
	Fenced bool
	// Position is the log position candidates are compared by.
	Position uint64
	// Timeline is the history Position belongs to.
	Timeline uint64
	// Upstream is the primary a standby streams from; invalid when it is
	// not streaming.
	Upstream Endpoint
	// SyncAcks are a primary's synchronous standbys and the positions they
	// confirmed, by name.
	SyncAcks map[string]uint64
}

// ReplicaSpec says where one replica's server lives: what a Driver is
// made for.
type ReplicaSpec struct {
	// Name is the replica's name, "<service>-<ordinal>".
	Name string
	// DataDir is the server's data directory, in the pod's volume.
	DataDir string
	// RunDir holds the server's sockets and the agent's files for it.
	RunDir string
	// Listen is the pod's IP address.
	Listen netip.Addr
	// Port is the server's port.
	Port uint16
}

// NewDriver makes the Driver of one replica.
type NewDriver func(ReplicaSpec) (Driver, error)
