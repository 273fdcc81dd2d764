package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TopologyKey names the level a spread constraint counts replicas at.
// +kubebuilder:validation:Enum=region;zone;cluster
type TopologyKey string

const (
	// TopologyRegion spreads over MemberCluster regions.
	TopologyRegion TopologyKey = "region"
	// TopologyZone spreads over MemberCluster zones.
	TopologyZone TopologyKey = "zone"
	// TopologyCluster spreads over member clusters.
	TopologyCluster TopologyKey = "cluster"
)

// UnsatisfiableAction says what placement does when a spread constraint
// cannot be met.
// +kubebuilder:validation:Enum=DoNotSchedule;ScheduleAnyway
type UnsatisfiableAction string

const (
	// DoNotSchedule makes the service Unschedulable rather than break the
	// constraint.
	DoNotSchedule UnsatisfiableAction = "DoNotSchedule"
	// ScheduleAnyway treats the constraint as a preference.
	ScheduleAnyway UnsatisfiableAction = "ScheduleAnyway"
)

// QuorumRule constrains how many replicas one region may hold.
// +kubebuilder:validation:Enum=None;NoRegionMajority;MajorityIn
type QuorumRule string

const (
	// QuorumNone places no quorum constraint.
	QuorumNone QuorumRule = "None"
	// QuorumNoRegionMajority keeps every region below a majority of the
	// replicas, so losing one region never loses quorum (etcd, Kafka KRaft).
	QuorumNoRegionMajority QuorumRule = "NoRegionMajority"
	// QuorumMajorityIn keeps a majority of the replicas in one region, so a
	// quorum commits at that region's latency.
	QuorumMajorityIn QuorumRule = "MajorityIn"
)

// TolerationOperator is how a toleration matches a taint's value.
// +kubebuilder:validation:Enum=Equal;Exists
type TolerationOperator string

const (
	// TolerationEqual matches a taint with the same key and value.
	TolerationEqual TolerationOperator = "Equal"
	// TolerationExists matches every taint with the key.
	TolerationExists TolerationOperator = "Exists"
)

// Toleration lets a service place replicas on member clusters with a
// matching taint.
// +kubebuilder:validation:XValidation:rule="self.operator != 'Exists' || !has(self.value) || size(self.value) == 0",message="value must be empty when operator is Exists"
type Toleration struct {
	// Key of the taint to tolerate; empty with operator Exists tolerates
	// every taint.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Key string `json:"key,omitempty"`
	// Operator: Equal (key and value match) or Exists (key matches).
	// +kubebuilder:default=Equal
	// +optional
	Operator TolerationOperator `json:"operator,omitempty"`
	// Value to match with operator Equal.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Value string `json:"value,omitempty"`
	// Effect to tolerate; empty tolerates every effect.
	// +kubebuilder:validation:Enum=NoSchedule;NoExecute;""
	// +optional
	Effect TaintEffect `json:"effect,omitempty"`
}

// SpreadConstraint bounds how unevenly replicas may be spread over regions,
// zones or clusters.
type SpreadConstraint struct {
	// TopologyKey is the level replicas are counted at: region, zone or
	// cluster.
	TopologyKey TopologyKey `json:"topologyKey"`
	// MaxSkew is the largest allowed difference between the replica counts
	// of any two eligible domains.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	MaxSkew int32 `json:"maxSkew"`
	// MinDomains is the smallest number of domains replicas must span.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinDomains *int32 `json:"minDomains,omitempty"`
	// WhenUnsatisfiable: DoNotSchedule (a hard rule) or ScheduleAnyway (a
	// preference).
	// +kubebuilder:default=DoNotSchedule
	// +optional
	WhenUnsatisfiable UnsatisfiableAction `json:"whenUnsatisfiable,omitempty"`
}

// ClusterPreference bounds and weighs one member cluster's share of the
// replicas.
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="min must be less than or equal to max",fieldPath=".min"
type ClusterPreference struct {
	// Name of the MemberCluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Min is the fewest replicas the cluster must run.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Min *int32 `json:"min,omitempty"`
	// Max is the most replicas the cluster may run.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Max *int32 `json:"max,omitempty"`
	// Weight is the cluster's relative share of the replicas that are not
	// fixed by min and max; clusters without a weight count 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Weight *int32 `json:"weight,omitempty"`
}

// Quorum constrains the region holding most replicas.
// +kubebuilder:validation:XValidation:rule="self.rule == 'MajorityIn' ? (has(self.region) && size(self.region) > 0) : (!has(self.region) || size(self.region) == 0)",message="region is required with rule MajorityIn and not allowed otherwise",fieldPath=".region"
type Quorum struct {
	// Rule: None, NoRegionMajority or MajorityIn.
	// +kubebuilder:default=None
	Rule QuorumRule `json:"rule"`
	// Region that must hold a majority, with rule MajorityIn.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Region string `json:"region,omitempty"`
}

// Placement says which member clusters may run replicas and how replicas are
// spread over them.
type Placement struct {
	// ClusterSelector selects MemberClusters by label; empty selects all.
	// +optional
	ClusterSelector *metav1.LabelSelector `json:"clusterSelector,omitempty"`
	// Tolerations let replicas run on tainted member clusters.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Tolerations []Toleration `json:"tolerations,omitempty"`
	// SpreadConstraints bound the skew of replicas over regions, zones or
	// clusters.
	// +listType=map
	// +listMapKey=topologyKey
	// +kubebuilder:validation:MaxItems=3
	// +optional
	SpreadConstraints []SpreadConstraint `json:"spreadConstraints,omitempty"`
	// Clusters bound and weigh individual clusters' shares.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=128
	// +optional
	Clusters []ClusterPreference `json:"clusters,omitempty"`
	// PrimaryRegions lists the regions preferred for the primary, most
	// preferred first.
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=63
	// +optional
	PrimaryRegions []string `json:"primaryRegions,omitempty"`
	// Quorum constrains the region holding most replicas.
	// +optional
	Quorum *Quorum `json:"quorum,omitempty"`
	// MaxConcurrentMoves is how many replicas may move between clusters at
	// once; a move copies the replica's data, so the default is one.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	MaxConcurrentMoves int32 `json:"maxConcurrentMoves,omitempty"`
}

// ContainerOverride replaces fields of one container in one cluster.
type ContainerOverride struct {
	// Name of the container in the pod template.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Image replaces the container's image, for example to use a regional
	// registry mirror.
	// +optional
	Image string `json:"image,omitempty"`
	// Resources replaces the container's resource requests and limits.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// ClusterOverride adapts the StatefulSet slice of one member cluster.
type ClusterOverride struct {
	// ClusterName is the MemberCluster the override applies to.
	// +kubebuilder:validation:MinLength=1
	ClusterName string `json:"clusterName"`
	// Containers override images and resources per container.
	// +listType=map
	// +listMapKey=name
	// +optional
	Containers []ContainerOverride `json:"containers,omitempty"`
	// StorageClassName replaces the storage class of every volume claim
	// template.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
	// NodeSelector is merged into the pod template's node selector.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Labels are merged into the labels of the slice and its pods.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are merged into the annotations of the slice and its pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}
