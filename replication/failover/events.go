package failover

import "time"

// Event is something the executor observed, fed to Step. Every event
// carries At, the time the executor observed it; Step uses it as now and
// never reads the clock. The set of events is closed: the types below.
type Event interface {
	// at returns the event's time.
	at() time.Time
}

// LeaseExpired: the etcd lease of the primary of Epoch expired.
type LeaseExpired struct {
	Epoch uint64
	At    time.Time
}

// LeaseRenewed: the primary of Epoch holds its lease (again).
type LeaseRenewed struct {
	Epoch uint64
	At    time.Time
}

// SyncAck is the position up to which the primary reports a synchronous
// standby acknowledged commits.
type SyncAck struct {
	Replica  string
	Position uint64
}

// PositionReported: a replica's agent reported its replication position.
// Epoch is the epoch of the primary the replica follows (or is). A
// primary's report lists its synchronous standbys' acknowledgements in
// SyncAcks; a standby missing from the list is no longer synchronous.
type PositionReported struct {
	Replica  string
	Role     Role
	Epoch    uint64
	Position uint64
	SyncAcks []SyncAck
	At       time.Time
}

// ReplicaChanged: the registry or gossip sees a replica differently: where
// it runs (an empty Cluster keeps the known location), whether it is
// ready and whether its cluster is reachable. Gone says the replica no
// longer exists (scaled down); the primary and the replicas a change of
// primary involves are kept, as unreachable.
type ReplicaChanged struct {
	Replica   string
	Cluster   string
	Region    string
	Healthy   bool
	Reachable bool
	Gone      bool
	At        time.Time
}

// PlacementChanged: placement now allows replicas in these clusters.
type PlacementChanged struct {
	Allowed []string
	At      time.Time
}

// Target selects a switchover's target: a replica, or the best replica in
// a cluster or a region. Empty fields do not restrict.
type Target struct {
	Replica string
	Cluster string
	Region  string
}

// SwitchoverRequested: an operator (or a drill, or the hub evacuating a
// cluster) asked to move the primary with no data loss.
type SwitchoverRequested struct {
	To Target
	At time.Time
}

// FailoverRequested: an operator asked to promote a replica while the
// primary is lost. To names the replica, or is empty for the best one.
// AcceptDataLoss allows a candidate beyond the RPO budget.
type FailoverRequested struct {
	To             string
	AcceptDataLoss bool
	At             time.Time
}

// PromotionCommitted: etcd holds Epoch with Primary as its primary; the
// executor's CommitPromotion transaction succeeded.
type PromotionCommitted struct {
	Epoch   uint64
	Primary string
	At      time.Time
}

// CommitFailed: a CommitPromotion transaction's guard failed. The executor
// re-read etcd: it holds Epoch with Primary, and LeaseHeld says whether
// that primary holds its lease.
type CommitFailed struct {
	Epoch     uint64
	Primary   string
	LeaseHeld bool
	At        time.Time
}

// Promoted: the agent promoted Replica in Epoch; Position is where its new
// history starts.
type Promoted struct {
	Replica  string
	Epoch    uint64
	Position uint64
	At       time.Time
}

// Demoted: the agent demoted Replica, primary in Epoch, and released its
// lease; its log ends at Position (the demotion token).
type Demoted struct {
	Replica  string
	Epoch    uint64
	Position uint64
	At       time.Time
}

// PrimaryReturned: a replica that was primary in Epoch reports in (after a
// partition, a restart or its own fencing), with its log ending at
// Position.
type PrimaryReturned struct {
	Replica  string
	Epoch    uint64
	Position uint64
	At       time.Time
}

// LossMeasured: the agent of Replica, bringing it onto the history of
// the primary of Epoch, measured what its log held beyond that history:
// Bytes of log committing Transactions transactions. For an old primary
// that is what the change of primary that replaced it lost.
type LossMeasured struct {
	Replica      string
	Epoch        uint64
	Bytes        uint64
	Transactions uint64
	At           time.Time
}

// DNSPublished: the DNS servers serve the primary of Epoch.
type DNSPublished struct {
	Epoch uint64
	At    time.Time
}

// Tick: time passed; timers (detection grace, step timeouts) are checked.
type Tick struct {
	At time.Time
}

// Resume: a hub leader starts from the stored State. Step re-emits the
// actions the state still needs and the condition.
type Resume struct {
	At time.Time
}

func (e LeaseExpired) at() time.Time        { return e.At }
func (e LeaseRenewed) at() time.Time        { return e.At }
func (e PositionReported) at() time.Time    { return e.At }
func (e ReplicaChanged) at() time.Time      { return e.At }
func (e PlacementChanged) at() time.Time    { return e.At }
func (e SwitchoverRequested) at() time.Time { return e.At }
func (e FailoverRequested) at() time.Time   { return e.At }
func (e PromotionCommitted) at() time.Time  { return e.At }
func (e CommitFailed) at() time.Time        { return e.At }
func (e Promoted) at() time.Time            { return e.At }
func (e Demoted) at() time.Time             { return e.At }
func (e PrimaryReturned) at() time.Time     { return e.At }
func (e LossMeasured) at() time.Time        { return e.At }
func (e DNSPublished) at() time.Time        { return e.At }
func (e Tick) at() time.Time                { return e.At }
func (e Resume) at() time.Time              { return e.At }
