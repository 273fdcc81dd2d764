package placement

// Effect says what a taint does to replicas that do not tolerate it.
type Effect string

const (
	// NoSchedule keeps new replicas away; replicas already there stay.
	NoSchedule Effect = "NoSchedule"
	// NoExecute moves every replica away.
	NoExecute Effect = "NoExecute"
)

// Taint marks a cluster.
type Taint struct {
	Key, Value string
	Effect     Effect
}

// TolerationOp is how a toleration matches a taint's value.
type TolerationOp string

const (
	// Equal matches a taint with the same key and value.
	Equal TolerationOp = "Equal"
	// Exists matches every taint with the key (every taint when the key
	// is empty).
	Exists TolerationOp = "Exists"
)

// Toleration lets replicas run on clusters with a matching taint. An empty
// Effect matches both effects.
type Toleration struct {
	Key      string
	Operator TolerationOp
	Value    string
	Effect   Effect
}

// SelectorOp is the operator of a label requirement.
type SelectorOp string

// Label requirement operators, as in Kubernetes label selectors.
const (
	In           SelectorOp = "In"
	NotIn        SelectorOp = "NotIn"
	LabelExists  SelectorOp = "Exists"
	DoesNotExist SelectorOp = "DoesNotExist"
)

// Requirement is one label requirement of a Selector.
type Requirement struct {
	Key      string
	Operator SelectorOp
	Values   []string
}

// Selector selects clusters by label: every MatchLabels pair and every
// requirement must hold. A nil Selector selects every cluster.
type Selector struct {
	MatchLabels      map[string]string
	MatchExpressions []Requirement
}

// Cluster is a member cluster as placement sees it.
type Cluster struct {
	// Name identifies the cluster; placement orders clusters by name
	// where nothing else decides.
	Name string
	// Region and Zone locate the cluster for spread and quorum rules.
	Region, Zone string
	// Labels are matched by the request's selector.
	Labels map[string]string
	// Taints keep replicas away unless tolerated.
	Taints []Taint
	// Healthy is false when the cluster is unreachable or not ready: it
	// gets no replicas and its replicas are placed elsewhere.
	Healthy bool
	// Capacity is how many more replicas of this service the cluster can
	// host beyond those it runs now; nil means unknown (no limit).
	Capacity *int
}

// Topology is the level a spread constraint counts replicas at.
type Topology string

// Spread levels.
const (
	ByRegion  Topology = "region"
	ByZone    Topology = "zone"
	ByCluster Topology = "cluster"
)

// Spread bounds how unevenly replicas spread over the domains of a
// topology level. Domains are eligible when at least one of their clusters
// may hold a replica.
type Spread struct {
	Topology Topology
	// MaxSkew is the largest allowed difference between the replica
	// counts of two eligible domains (at least 1).
	MaxSkew int
	// MinDomains is the fewest domains that must hold replicas (capped at
	// the number of replicas); zero means no minimum.
	MinDomains int
	// Soft makes the constraint a preference (ScheduleAnyway) instead of
	// a rule (DoNotSchedule).
	Soft bool
}

// Bounds limits and weighs one cluster's share of the replicas.
type Bounds struct {
	Cluster string
	// Min and Max bound the cluster's replicas; nil means no bound.
	Min, Max *int
	// Weight is the cluster's relative share of free replicas; nil means
	// 1, zero means only when needed.
	Weight *int
}

// QuorumRule constrains the region holding most replicas.
type QuorumRule string

// Quorum rules.
const (
	// NoQuorumRule places no quorum constraint.
	NoQuorumRule QuorumRule = ""
	// NoRegionMajority keeps every region at most ceil(R/2)-1 replicas,
	// so the other regions keep a majority when any one region is lost.
	NoRegionMajority QuorumRule = "NoRegionMajority"
	// MajorityIn keeps at least floor(R/2)+1 replicas in Quorum.Region.
	MajorityIn QuorumRule = "MajorityIn"
)

// Quorum is a request's quorum rule.
type Quorum struct {
	Rule QuorumRule
	// Region for MajorityIn.
	Region string
}

// Request is what one service asks of placement.
type Request struct {
	// Replicas is the number of replicas; they get ordinals 0..Replicas-1.
	Replicas int
	// Selector picks the clusters that may hold replicas; nil picks all.
	Selector *Selector
	// Tolerations let replicas run on tainted clusters.
	Tolerations []Toleration
	// Spread are the spread constraints, at most one per topology level.
	Spread []Spread
	// Bounds are per-cluster minimums, maximums and weights.
	Bounds []Bounds
	// PrimaryRegions are the regions preferred for the primary, most
	// preferred first.
	PrimaryRegions []string
	// Quorum is the quorum rule.
	Quorum Quorum
}

// Range is a contiguous range of ordinals on one cluster:
// Start..Start+Count-1.
type Range struct {
	Cluster      string
	Start, Count int
}

// Move is one replica changing cluster: its data has to be copied.
type Move struct {
	Ordinal  int
	From, To string
}

// Input is everything placement decides from.
type Input struct {
	// Clusters is the inventory; a cluster in Current but not here is
	// gone and gives its replicas away.
	Clusters []Cluster
	// Request is the service's placement request.
	Request Request
	// Current is today's assignment; empty for a new service.
	Current []Range
	// MoveBudget is how many moves beyond the unavoidable minimum
	// placement may spend to bring counts closer to the weights.
	MoveBudget int
}
