package gossip

import "time"

// Role is what a node does in the federation.
type Role string

// The roles of the pool's nodes.
const (
	// RoleHub is a fedstate hub replica.
	RoleHub Role = "hub"
	// RoleAgent is the fedstate agent of one member cluster.
	RoleAgent Role = "agent"
)

// State is a member's state in one node's view of the pool.
type State uint8

// The states of a member. The zero value is StateUnknown.
const (
	// StateUnknown: never seen (ClusterState of a cluster without agents).
	StateUnknown State = iota
	// StateAlive: the member answers, directly or through other members.
	StateAlive
	// StateSuspect: this node's last probe of the member got no answer,
	// neither directly nor through other members; memberlist has started
	// its suspicion timer and the member may still refute it.
	StateSuspect
	// StateDead: memberlist declared the member failed.
	StateDead
	// StateLeft: the member left the pool on purpose (Pool.Leave).
	StateLeft
)

// String returns the state's lower-case name, as used in metric labels.
func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	default:
		return "unknown"
	}
}

// Member is one node of the pool as this node sees it.
type Member struct {
	// Name is the node's unique name in the pool.
	Name string
	// Role, Cluster and Region come from the node's metadata.
	Role Role
	// Cluster is the member cluster of an agent (may be empty for a hub).
	Cluster string
	// Region is the region the node runs in.
	Region string
	// Payload is the node's opaque payload (an agent's etcd session id).
	Payload []byte
	// Addr is the node's gossip address, host:port.
	Addr string
	// State is the member's state in this node's view.
	State State
	// Since is when this node saw the member enter State.
	Since time.Time
	// Self marks the local node.
	Self bool
	// DirectProbeFailed reports that this node's last direct probe of the
	// member got no ack in time. With State Alive it means the member
	// answered only through other members (indirect probes): this node and
	// the member are cut from each other while the rest of the pool reaches
	// both — a partition hint.
	DirectProbeFailed bool
}

// Kind classifies a transition by its From and To states.
type Kind uint8

// The kinds of transitions.
const (
	// KindJoined: a member seen for the first time (From StateUnknown).
	KindJoined Kind = iota
	// KindSuspected: Alive -> Suspect.
	KindSuspected
	// KindRefuted: Suspect -> Alive: a direct ack came back, or the
	// suspicion window passed without a death (the member refuted it).
	KindRefuted
	// KindDied: -> Dead.
	KindDied
	// KindLeft: -> Left.
	KindLeft
	// KindRejoined: Dead or Left -> Alive (a restart or a healed partition).
	KindRejoined
	// KindUpdated: the member's metadata changed, its state did not.
	KindUpdated
)

// String returns the kind's lower-case name, as used in metric labels.
func (k Kind) String() string {
	switch k {
	case KindJoined:
		return "joined"
	case KindSuspected:
		return "suspected"
	case KindRefuted:
		return "refuted"
	case KindDied:
		return "died"
	case KindLeft:
		return "left"
	case KindRejoined:
		return "rejoined"
	default:
		return "updated"
	}
}

// allKinds lists every Kind, for metrics initialisation.
var allKinds = []Kind{KindJoined, KindSuspected, KindRefuted, KindDied, KindLeft, KindRejoined, KindUpdated}

// Transition is one change of a member in this node's view.
type Transition struct {
	// Member is the member after the transition.
	Member Member
	// From is the member's previous state (StateUnknown for a new member).
	From State
	// To is the member's new state, Member.State.
	To State
	// At is when this node saw the transition.
	At time.Time
	// DeclaredHere is set on a death declared by this node's own
	// suspicion timer. Unset on a death this node learned by gossip from
	// another node that declared it first.
	DeclaredHere bool
	// Confirmations is, when DeclaredHere, the number of suspicions of the
	// member that memberlist received from other nodes beyond the first
	// one before the timer expired.
	Confirmations int
	// SuspectedHere is set on a death when this node's own probe of the
	// member failed (direct, indirect and TCP) during the suspicion.
	SuspectedHere bool
	// HealthScore is this node's memberlist health score when the
	// transition was seen: 0 is healthy; higher means this node itself
	// misses acks and nacks, so its own verdicts deserve less trust.
	HealthScore int
}

// Kind classifies the transition.
func (t Transition) Kind() Kind {
	switch {
	case t.From == t.To:
		return KindUpdated
	case t.To == StateSuspect:
		return KindSuspected
	case t.To == StateDead:
		return KindDied
	case t.To == StateLeft:
		return KindLeft
	case t.From == StateUnknown:
		return KindJoined
	case t.From == StateSuspect:
		return KindRefuted
	default:
		return KindRejoined
	}
}

// Corroborated reports whether another node's view took part in a death
// (it is false for every other transition): another node declared it, or memberlist counted at least
// one suspicion from another node, or this node never failed a probe of
// the member itself (so the suspicion came from elsewhere). A death that
// is not corroborated rests on this node's view alone: this node may be
// the one cut off. Either way a death is a hint, never proof: the hub
// acts on the member's etcd lease.
func (t Transition) Corroborated() bool {
	return t.To == StateDead && (!t.DeclaredHere || t.Confirmations > 0 || !t.SuspectedHere)
}
