package failover

import "time"

// Mode says whether the hub promotes a new primary by itself.
type Mode string

const (
	// Automatic promotes the best candidate within the RPO budget once the
	// detection grace is over.
	Automatic Mode = "Automatic"
	// Manual names the candidate in the condition and waits for
	// `fedctl failover`.
	Manual Mode = "Manual"
)

// SyncScope says where synchronous standbys run relative to the primary.
type SyncScope string

const (
	// SyncAny accepts synchronous standbys in any cluster.
	SyncAny SyncScope = "Any"
	// SyncSameRegion keeps synchronous standbys in the primary's region.
	SyncSameRegion SyncScope = "SameRegion"
	// SyncOtherRegion keeps synchronous standbys outside the primary's
	// region.
	SyncOtherRegion SyncScope = "OtherRegion"
)

// Role is a replica's role as its agent last reported it.
type Role string

// Replica roles, as in the API's ReplicaRole.
const (
	RolePrimary      Role = "Primary"
	RoleSyncStandby  Role = "SyncStandby"
	RoleAsyncReplica Role = "AsyncReplica"
	RoleFenced       Role = "Fenced"
	RoleUnknown      Role = "Unknown"
)

// RPO bounds the data an automatic failover may lose. A bound left nil is
// not checked; a budget with neither bound, like no budget at all, accepts
// only a candidate that loses nothing.
type RPO struct {
	// MaxLagBytes is the most log, in bytes, the candidate may lack behind
	// the primary's last known position.
	MaxLagBytes *uint64 `json:"maxLagBytes,omitempty"`
	// MaxLag is the longest time the candidate may lag: from the last time
	// it was seen holding everything the primary had written to the time
	// of the primary's last known position. Nanoseconds in JSON.
	MaxLag *time.Duration `json:"maxLagNs,omitempty"`
}

// Policy is the service's replication and failover configuration, as the
// hub converts it from the FederatedStatefulSet.
type Policy struct {
	// Mode is Automatic or Manual.
	Mode Mode `json:"mode"`
	// SyncReplicas is the number of synchronous standbys a commit waits
	// for; zero means asynchronous replication.
	SyncReplicas int `json:"syncReplicas,omitempty"`
	// SyncScope says where synchronous standbys run; it orders zero-loss
	// synchronous standbys when several may be promoted (see Step).
	SyncScope SyncScope `json:"syncScope,omitempty"`
	// RPO bounds the data an automatic failover may lose; nil accepts only
	// zero loss.
	RPO *RPO `json:"rpo,omitempty"`
	// DetectionGrace is how long after the lease expired the machine waits
	// before it chooses a candidate. Nanoseconds in JSON.
	DetectionGrace time.Duration `json:"detectionGraceNs,omitempty"`
	// StepTimeout is how long the machine waits for an agent to confirm a
	// demotion or a committed promotion before it gives up on that
	// replica; zero waits forever. Nanoseconds in JSON.
	StepTimeout time.Duration `json:"stepTimeoutNs,omitempty"`
}

// Replica is what the machine knows of one replica.
type Replica struct {
	// Name is the replica's global name, such as "db-2".
	Name string `json:"name"`
	// Cluster runs the replica.
	Cluster string `json:"cluster,omitempty"`
	// Region of the cluster.
	Region string `json:"region,omitempty"`
	// Healthy is the replica's readiness as the registry sees it.
	Healthy bool `json:"healthy,omitempty"`
	// Reachable is false when gossip or the registry cannot reach the
	// replica's cluster.
	Reachable bool `json:"reachable,omitempty"`
	// Role is the role the replica last reported.
	Role Role `json:"role,omitempty"`
	// Epoch is the epoch of the primary the replica last reported
	// following (or being, for a primary).
	Epoch uint64 `json:"epoch,omitempty"`
	// Position is the replica's last reported replication position (an
	// LSN), in bytes of log.
	Position uint64 `json:"position,omitempty"`
	// ReportedAt is when the replica last reported its position; zero
	// when it never did.
	ReportedAt time.Time `json:"reportedAt,omitzero"`
	// SyncAcked is the position up to which the primary last reported the
	// replica acknowledged commits as a synchronous standby; zero when it
	// is not one.
	SyncAcked uint64 `json:"syncAcked,omitempty"`
	// CaughtUpAt is the last time the replica was known to hold everything
	// the primary had written; zero when unknown.
	CaughtUpAt time.Time `json:"caughtUpAt,omitzero"`
	// Diverged is true when the replica's log may hold writes that are not
	// in the current primary's history: it must rewind before it follows.
	Diverged bool `json:"diverged,omitempty"`
	// Fenced is true for an old primary that must stay read-only until it
	// reports following the current primary.
	Fenced bool `json:"fenced,omitempty"`
}

// Mark is the primary's known position at a time.
type Mark struct {
	// Position is the log position, in bytes.
	Position uint64 `json:"position"`
	// At is when the primary was known to have written up to Position.
	At time.Time `json:"at"`
}

// MaxHistory is how many failover records State keeps, newest first, as
// the API's status does.
const MaxHistory = 10

// maxMarks is how many of the primary's recent positions State keeps to
// tell how long ago a lagging replica was caught up.
const maxMarks = 8

// State is everything the failover machine knows of one service in
// PrimaryReplica mode. The executor stores it in etcd (Encode) and feeds it
// back to Step with each event; a new hub leader resumes from it.
type State struct {
	// Service is the name fedctl knows the service by, used in the
	// commands the diagnosis suggests (such as "db" or "prod/db").
	Service string `json:"service"`
	// Policy is the service's failover configuration.
	Policy Policy `json:"policy"`
	// Epoch is the last epoch known committed in etcd; it only grows.
	Epoch uint64 `json:"epoch"`
	// Primary names the committed primary of Epoch; empty before the first
	// promotion.
	Primary string `json:"primary,omitempty"`
	// Phase is where the service stands.
	Phase Phase `json:"phase"`
	// Fork is the position the current epoch's history starts from: the
	// new primary's position at its promotion.
	Fork uint64 `json:"fork,omitempty"`
	// Marks are the primary's known positions over time, oldest first;
	// the last is the head: the furthest position of the current history
	// seen, by the primary's reports or a follower's.
	Marks []Mark `json:"marks,omitempty"`
	// Allowed are the clusters placement allows replicas in, sorted; a
	// replica elsewhere is not promoted.
	Allowed []string `json:"allowed,omitempty"`
	// Replicas are the service's replicas, in name order (ordinals
	// compared as numbers).
	Replicas []Replica `json:"replicas,omitempty"`
	// Condition is the FailingOver condition last published.
	Condition Condition `json:"condition,omitzero"`
	// History holds the last changes of primary, newest first.
	History []Record `json:"history,omitempty"`
}

// Head is the furthest position of the current history the machine has
// seen, and when it was written.
func (s *State) Head() Mark {
	if len(s.Marks) == 0 {
		return Mark{Position: s.Fork}
	}
	return s.Marks[len(s.Marks)-1]
}

// Replica returns the replica named name, or nil.
func (s *State) Replica(name string) *Replica {
	for i := range s.Replicas {
		if s.Replicas[i].Name == name {
			return &s.Replicas[i]
		}
	}
	return nil
}

// clone copies s deeply enough that changing the copy leaves s alone.
func (s State) clone() State {
	c := s
	c.Marks = append([]Mark(nil), s.Marks...)
	c.Allowed = append([]string(nil), s.Allowed...)
	c.Replicas = append([]Replica(nil), s.Replicas...)
	c.History = append([]Record(nil), s.History...)
	if s.Policy.RPO != nil {
		rpo := *s.Policy.RPO
		c.Policy.RPO = &rpo
	}
	return c
}
