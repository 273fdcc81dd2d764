package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types of a MemberCluster.
const (
	// MemberReady is True when the hub can reach the member and its API
	// server reports ready: the member may receive new replicas.
	MemberReady = "Ready"
	// MemberReachable is True when the last health probe reached the
	// member's API server within its timeout.
	MemberReachable = "Reachable"
	// MemberAgentAlive is True when the member's fedstate agent holds a
	// live session in the federation etcd and the gossip pool does not
	// declare it dead with other members' corroboration. A status, never
	// a trigger: failover acts on the primaries' leases only.
	MemberAgentAlive = "AgentAlive"
)

// Condition reasons of a MemberCluster.
const (
	// ReasonProbeSucceeded: the last /readyz probe answered 200.
	ReasonProbeSucceeded = "ProbeSucceeded"
	// ReasonProbeFailed: the last probes failed up to the failure threshold.
	ReasonProbeFailed = "ProbeFailed"
	// ReasonKubeconfigInvalid: the kubeconfig Secret exists but its key is
	// missing or holds no usable kubeconfig.
	ReasonKubeconfigInvalid = "KubeconfigInvalid"
	// ReasonSecretNotFound: the kubeconfig Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonProbePending: the hub is connected to the member and has no
	// probe verdict yet.
	ReasonProbePending = "ProbePending"
	// ReasonAPIServerNotReady: the member's API server answered /readyz with
	// an error status up to the failure threshold: it is reachable, not
	// ready.
	ReasonAPIServerNotReady = "APIServerNotReady"

	// ReasonSessionAlive (AgentAlive True): the member's agent holds a live
	// etcd session, and gossip, if the hub is in the pool, sees nothing
	// wrong.
	ReasonSessionAlive = "SessionAlive"
	// ReasonHubCannotProbe (AgentAlive True): the agent holds its session,
	// but the hub's own gossip probes fail while other members vouch for
	// it, or no other member confirmed the death the hub declared: the
	// network between the hub and the agent (or the hub's own) is the
	// problem, not the agent.
	ReasonHubCannotProbe = "HubCannotProbe"
	// ReasonGossipSuspect (AgentAlive Unknown): the hub's gossip probes of
	// the agent, direct and through other members, got no answer; its
	// session is still alive.
	ReasonGossipSuspect = "GossipSuspect"
	// ReasonGossipDead (AgentAlive False): gossip declares the agent dead,
	// corroborated by other members; its session may outlive it by up to
	// the lease TTL.
	ReasonGossipDead = "GossipDead"
	// ReasonAgentLeft (AgentAlive False): the agent left the gossip pool, a
	// planned stop.
	ReasonAgentLeft = "AgentLeft"
	// ReasonNoSession (AgentAlive False): no agent of the member holds a
	// session in the federation etcd.
	ReasonNoSession = "NoSession"
)

// TaintEffect says what a MemberCluster taint does to replicas that do not
// tolerate it.
// +kubebuilder:validation:Enum=NoSchedule;NoExecute
type TaintEffect string

const (
	// TaintNoSchedule keeps new replicas away; replicas already placed stay
	// (maintenance).
	TaintNoSchedule TaintEffect = "NoSchedule"
	// TaintNoExecute moves replicas already placed away (evacuation).
	TaintNoExecute TaintEffect = "NoExecute"
)

// Taint marks a member cluster so that only services tolerating it place
// replicas there.
type Taint struct {
	// Key of the taint, for example "fedstate.io/maintenance".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
	// Value of the taint; may be empty.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Value string `json:"value,omitempty"`
	// Effect of the taint on services that do not tolerate it.
	Effect TaintEffect `json:"effect"`
}

// SecretKeyReference points at one key of a Secret in the hub cluster.
type SecretKeyReference struct {
	// Namespace of the Secret.
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace"`
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key within the Secret's data.
	// +kubebuilder:default=kubeconfig
	// +optional
	Key string `json:"key,omitempty"`
}

// MemberClusterSpec describes a member cluster: where it runs and how the
// hub reaches it.
type MemberClusterSpec struct {
	// Region the cluster runs in, for example "eu-west". Placement spreads
	// replicas over regions and the DNS server prefers same-region targets.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Region string `json:"region"`
	// Zone within the region, for example "eu-west-1a".
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Zone string `json:"zone,omitempty"`
	// Taints keep replicas away from the cluster unless their service
	// tolerates them.
	// +listType=map
	// +listMapKey=key
	// +listMapKey=effect
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Taints []Taint `json:"taints,omitempty"`
	// KubeconfigSecretRef names the Secret in the hub that holds the
	// kubeconfig the hub uses to reach this member.
	KubeconfigSecretRef SecretKeyReference `json:"kubeconfigSecretRef"`
}

// ClusterCapacity summarises what a member cluster can host.
type ClusterCapacity struct {
	// Nodes is the number of schedulable nodes.
	Nodes int32 `json:"nodes"`
	// CPU is the allocatable CPU summed over schedulable nodes.
	// +optional
	CPU resource.Quantity `json:"cpu,omitempty"`
	// Memory is the allocatable memory summed over schedulable nodes.
	// +optional
	Memory resource.Quantity `json:"memory,omitempty"`
	// Pods is the allocatable pod count summed over schedulable nodes.
	// +optional
	Pods int64 `json:"pods,omitempty"`
	// StorageClasses lists the storage classes of the member; the default
	// class comes first.
	// +listType=atomic
	// +optional
	StorageClasses []string `json:"storageClasses,omitempty"`
}

// MemberClusterStatus is what the hub last observed of a member cluster.
type MemberClusterStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Reachable, AgentAlive.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Capacity is the member's capacity at the last successful probe.
	// +optional
	Capacity *ClusterCapacity `json:"capacity,omitempty"`
	// KubernetesVersion is the member API server's version.
	// +optional
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// LastProbeTime is when the hub last probed the member, successfully or
	// not.
	// +optional
	LastProbeTime *metav1.Time `json:"lastProbeTime,omitempty"`
}

// MemberCluster is a Kubernetes cluster that joined the federation. It is
// cluster-scoped: one object per member, named after the member.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=mc,categories=fedstate
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="Zone",type=string,JSONPath=`.spec.zone`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reachable",type=string,JSONPath=`.status.conditions[?(@.type=="Reachable")].status`
// +kubebuilder:printcolumn:name="Agent",type=string,JSONPath=`.status.conditions[?(@.type=="AgentAlive")].status`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.kubernetesVersion`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MemberCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state: region, zone, taints, credentials.
	Spec MemberClusterSpec `json:"spec"`
	// Status is the hub's latest observation of the member.
	// +optional
	Status MemberClusterStatus `json:"status,omitempty"`
}

// MemberClusterList is a list of MemberCluster objects.
//
// +kubebuilder:object:root=true
type MemberClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the member clusters.
	Items []MemberCluster `json:"items"`
}
