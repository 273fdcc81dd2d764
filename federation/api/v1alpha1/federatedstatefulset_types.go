package v1alpha1

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types of a FederatedStatefulSet.
const (
	// ServicePlaced is True when every ordinal has a cluster that keeps
	// every placement rule.
	ServicePlaced = "Placed"
	// ServiceAvailable is True when enough replicas are ready to serve and,
	// in PrimaryReplica mode, a fenced-in primary is ready.
	ServiceAvailable = "Available"
	// ServiceProgressing is True while slices are created, scaled or moved.
	ServiceProgressing = "Progressing"
	// ServiceDegraded is True when a cluster holding replicas is unreachable
	// or replicas are not ready.
	ServiceDegraded = "Degraded"
	// ServiceFailingOver is True while a new primary is being chosen and
	// promoted.
	ServiceFailingOver = "FailingOver"
)

// Condition reasons of a FederatedStatefulSet.
const (
	// ReasonUnschedulable: placement found no assignment that keeps every
	// rule; the message says why.
	ReasonUnschedulable = "Unschedulable"
	// ReasonMemberUnreachable: a cluster holding replicas cannot be reached.
	ReasonMemberUnreachable = "MemberUnreachable"
	// ReasonNoCandidate: no replica may be promoted within the RPO budget.
	ReasonNoCandidate = "NoCandidate"
	// ReasonPlaced: every ordinal has a cluster.
	ReasonPlaced = "Placed"
	// ReasonMovingReplicas: ordinals are moving between clusters; the
	// message names them.
	ReasonMovingReplicas = "MovingReplicas"
	// ReasonScaling: slices are growing or shrinking to the new replica
	// count or waiting for replicas to become ready.
	ReasonScaling = "Scaling"
	// ReasonConverged: every slice matches the placement and is ready.
	ReasonConverged = "Converged"
	// ReasonReplicasReady: enough replicas are ready.
	ReasonReplicasReady = "ReplicasReady"
	// ReasonReplicasNotReady: too few replicas are ready; the message
	// names those that are not.
	ReasonReplicasNotReady = "ReplicasNotReady"
	// ReasonApplyFailed: a slice could not be written to a cluster.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonMemberRejected: a member's API server found a slice invalid
	// (the template passes the hub's checks but not the member's); the
	// message names the member and the field. Nothing of that slice was
	// written.
	ReasonMemberRejected = "MemberRejected"
	// ReasonHealthy: every cluster holding replicas is reachable.
	ReasonHealthy = "Healthy"
)

// MovePhase is where one ordinal's move between clusters stands.
// +kubebuilder:validation:Enum=Draining;WaitingForData;Starting
type MovePhase string

// Move phases, in order.
const (
	// MoveDraining: the source slice no longer includes the ordinal; the
	// hub waits until its pod is gone from the source cluster.
	MoveDraining MovePhase = "Draining"
	// MoveWaitingForData: the pod is gone; the hub waits for the data gate
	// (the replica's data being ready in the destination).
	MoveWaitingForData MovePhase = "WaitingForData"
	// MoveStarting: the destination slice includes the ordinal.
	MoveStarting MovePhase = "Starting"
)

// OrdinalMove is one replica moving from one cluster to another.
type OrdinalMove struct {
	// Ordinal of the moving replica.
	Ordinal int32 `json:"ordinal"`
	// From is the cluster the replica leaves.
	From string `json:"from"`
	// To is the cluster the replica moves to.
	To string `json:"to"`
	// Phase of the move.
	Phase MovePhase `json:"phase"`
	// Since is when the move entered its phase.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
}

// LeftBehind records member objects the hub could not remove.
type LeftBehind struct {
	// Cluster holding the objects.
	Cluster string `json:"cluster"`
	// Objects, as kind/namespace/name.
	// +listType=atomic
	Objects []string `json:"objects"`
	// Reason the objects stay, e.g. the cluster was unreachable past the
	// deletion timeout.
	Reason string `json:"reason"`
}

// ServicePort is a port the service's replicas listen on; it appears in the
// headless Service of every slice and in SRV names.
type ServicePort struct {
	// Name of the port, used in SRV names (_<name>._<protocol>).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Port number.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
	// Protocol: TCP or UDP.
	// +kubebuilder:validation:Enum=TCP;UDP
	// +kubebuilder:default=TCP
	// +optional
	Protocol corev1.Protocol `json:"protocol,omitempty"`
}

// StatefulSetTemplate is the part of a StatefulSet spec the user writes; the
// hub sets replicas, ordinals, selector and serviceName of every slice.
type StatefulSetTemplate struct {
	// Template is the pod template of every replica.
	Template corev1.PodTemplateSpec `json:"template"`
	// VolumeClaimTemplates are the replicas' persistent volume claims.
	// +listType=atomic
	// +optional
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates,omitempty"`
	// PodManagementPolicy: OrderedReady or Parallel.
	// +optional
	PodManagementPolicy appsv1.PodManagementPolicyType `json:"podManagementPolicy,omitempty"`
	// UpdateStrategy of every slice.
	// +optional
	UpdateStrategy appsv1.StatefulSetUpdateStrategy `json:"updateStrategy,omitempty"`
	// PersistentVolumeClaimRetentionPolicy of every slice.
	// +optional
	PersistentVolumeClaimRetentionPolicy *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy `json:"persistentVolumeClaimRetentionPolicy,omitempty"`
	// MinReadySeconds a new pod must be ready before it counts available.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
}

// FederatedStatefulSetSpec is the desired state of a federated stateful
// service.
// +kubebuilder:validation:XValidation:rule="!has(self.replication) || !has(self.replication.syncReplicas) || self.replication.syncReplicas == 0 || self.replication.syncReplicas < self.replicas",message="syncReplicas must be less than replicas",fieldPath=".replication.syncReplicas"
type FederatedStatefulSetSpec struct {
	// Replicas is the number of replicas over all clusters; they get the
	// global ordinals 0 to replicas-1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=1
	Replicas int32 `json:"replicas"`
	// ServiceName is the name of the headless Service in every member
	// cluster and of the DNS names; it defaults to the object's name.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
	// Ports the replicas listen on.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Ports []ServicePort `json:"ports,omitempty"`
	// Template is the StatefulSet every cluster's slice is made from.
	Template StatefulSetTemplate `json:"template"`
	// Placement says where replicas may run and how they spread.
	// +optional
	Placement Placement `json:"placement,omitempty"`
	// Overrides adapt individual clusters' slices.
	// +listType=map
	// +listMapKey=clusterName
	// +kubebuilder:validation:MaxItems=128
	// +optional
	Overrides []ClusterOverride `json:"overrides,omitempty"`
	// Replication says who keeps the replicas' data in step.
	// +optional
	Replication *Replication `json:"replication,omitempty"`
	// Failover says how a lost primary is replaced, with replication mode
	// PrimaryReplica.
	// +optional
	Failover *Failover `json:"failover,omitempty"`
	// DNS configures the service's federated DNS names.
	// +optional
	DNS *DNS `json:"dns,omitempty"`
}

// OrdinalRange is the contiguous range of global ordinals one cluster runs.
type OrdinalRange struct {
	// Cluster is the MemberCluster running the range.
	Cluster string `json:"cluster"`
	// Start is the first ordinal of the range (the slice's
	// spec.ordinals.start).
	// +kubebuilder:validation:Minimum=0
	Start int32 `json:"start"`
	// Count is the number of ordinals (the slice's replicas).
	// +kubebuilder:validation:Minimum=0
	Count int32 `json:"count"`
}

// ClusterReplicaStatus counts one cluster's replicas.
type ClusterReplicaStatus struct {
	// Cluster is the MemberCluster.
	Cluster string `json:"cluster"`
	// Region of the cluster.
	// +optional
	Region string `json:"region,omitempty"`
	// Replicas placed in the cluster.
	Replicas int32 `json:"replicas"`
	// ReadyReplicas of the cluster's slice.
	ReadyReplicas int32 `json:"readyReplicas"`
}

// ReplicaRole is a replica's role in PrimaryReplica mode.
// +kubebuilder:validation:Enum=Primary;SyncStandby;AsyncReplica;Fenced;Unknown
type ReplicaRole string

// Replica roles, in the order DNS SRV priorities follow.
const (
	RolePrimary      ReplicaRole = "Primary"
	RoleSyncStandby  ReplicaRole = "SyncStandby"
	RoleAsyncReplica ReplicaRole = "AsyncReplica"
	RoleFenced       ReplicaRole = "Fenced"
	RoleUnknown      ReplicaRole = "Unknown"
)

// ReplicaStatus is what the hub last saw of one replica.
type ReplicaStatus struct {
	// Ordinal is the replica's global ordinal.
	Ordinal int32 `json:"ordinal"`
	// Cluster runs the replica.
	Cluster string `json:"cluster"`
	// PodIP of the replica's pod.
	// +optional
	PodIP string `json:"podIP,omitempty"`
	// Ready is the pod's readiness.
	Ready bool `json:"ready"`
	// Role in PrimaryReplica mode.
	// +optional
	Role ReplicaRole `json:"role,omitempty"`
	// LagBytes is the replica's replication lag behind the primary.
	// +optional
	LagBytes *int64 `json:"lagBytes,omitempty"`
}

// PrimaryStatus names the fenced-in primary.
type PrimaryStatus struct {
	// Ordinal of the primary replica.
	Ordinal int32 `json:"ordinal"`
	// Cluster running the primary.
	Cluster string `json:"cluster"`
	// Epoch is the fencing epoch the primary was promoted in; it only grows.
	// +kubebuilder:validation:Minimum=0
	Epoch int64 `json:"epoch"`
	// Since is when the primary was promoted.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
}

// FailoverRecord describes one past change of primary.
type FailoverRecord struct {
	// Time the new primary was published (promoted and named by DNS), or
	// committed while it is not yet.
	Time metav1.Time `json:"time"`
	// Reason: LeaseExpired, Switchover, Manual (an operator's failover),
	// SwitchoverAborted, PromotionFailed (a committed primary did not
	// confirm), Adopted (committed by another hub leader), Bootstrap (the
	// first primary) or Drill.
	Reason string `json:"reason"`
	// FromOrdinal is the old primary's ordinal.
	// +optional
	FromOrdinal *int32 `json:"fromOrdinal,omitempty"`
	// ToOrdinal is the new primary's ordinal.
	ToOrdinal int32 `json:"toOrdinal"`
	// Epoch of the promotion.
	Epoch int64 `json:"epoch"`
	// RTO is the time from detection to the new primary being published.
	// +optional
	RTO *metav1.Duration `json:"rto,omitempty"`
	// DataLossBytes is an estimate, made at promotion, of the log lost:
	// the old primary's last reported position minus the new primary's;
	// zero for a synchronous standby. It is a lower bound: what the old
	// primary wrote after its last report is unknown until it returns
	// (measuredLossBytes).
	// +optional
	DataLossBytes *int64 `json:"dataLossBytes,omitempty"`
	// MeasuredLossBytes is the log the old primary held beyond the new
	// primary's history, measured by its agent when it returned, before
	// rewinding it: the loss as it was, not as estimated. Unset until the
	// old primary returns.
	// +optional
	MeasuredLossBytes *int64 `json:"measuredLossBytes,omitempty"`
	// LostTransactions is how many committed transactions that log held:
	// the acknowledged transactions this change of primary lost.
	// +optional
	LostTransactions *int64 `json:"lostTransactions,omitempty"`
	// LossMeasuredAt is when the measurement reached the hub.
	// +optional
	LossMeasuredAt *metav1.Time `json:"lossMeasuredAt,omitempty"`
	// AcceptedDataLoss is true when an operator accepted losing data
	// (fedctl failover --accept-data-loss).
	// +optional
	AcceptedDataLoss bool `json:"acceptedDataLoss,omitempty"`
	// DetectedAt is when the change began: the lease expiry or the request.
	// +optional
	DetectedAt *metav1.MicroTime `json:"detectedAt,omitempty"`
	// FencedAt is when the old primary was known to be read-only: its
	// lease expired or it confirmed its demotion.
	// +optional
	FencedAt *metav1.MicroTime `json:"fencedAt,omitempty"`
	// CommittedAt is when the federation etcd held the new epoch and DNS
	// records (one transaction).
	// +optional
	CommittedAt *metav1.MicroTime `json:"committedAt,omitempty"`
	// PromotedAt is when the new primary's agent confirmed the promotion.
	// +optional
	PromotedAt *metav1.MicroTime `json:"promotedAt,omitempty"`
	// PublishedAt is when the new primary was both promoted and named by
	// the DNS records; RTO ends here.
	// +optional
	PublishedAt *metav1.MicroTime `json:"publishedAt,omitempty"`
}

// RequestKind names an operator request.
// +kubebuilder:validation:Enum=Switchover;Failover
type RequestKind string

// Operator requests.
const (
	// RequestSwitchover: a planned switchover (AnnotationSwitchover).
	RequestSwitchover RequestKind = "Switchover"
	// RequestFailover: a failover while the primary is lost
	// (AnnotationFailover).
	RequestFailover RequestKind = "Failover"
)

// RequestPhase is where an operator request stands.
// +kubebuilder:validation:Enum=Accepted;Refused;Succeeded;Failed
type RequestPhase string

// Request phases: Accepted, then one of the others.
const (
	// RequestAccepted: the hub acts on the request.
	RequestAccepted RequestPhase = "Accepted"
	// RequestRefused: the hub did not act on the request; the message
	// says why.
	RequestRefused RequestPhase = "Refused"
	// RequestSucceeded: the primary changed as asked.
	RequestSucceeded RequestPhase = "Succeeded"
	// RequestFailed: the change was started and given up; the message
	// says why.
	RequestFailed RequestPhase = "Failed"
)

// RequestStatus is the hub's answer to the latest operator request of one
// kind.
type RequestStatus struct {
	// Kind of request.
	Kind RequestKind `json:"kind"`
	// ID of the request, from its annotation; the hub acts on an id once.
	// +kubebuilder:validation:MaxLength=253
	ID string `json:"id"`
	// Phase of the request.
	Phase RequestPhase `json:"phase"`
	// Message says what the hub did or why not.
	// +optional
	Message string `json:"message,omitempty"`
	// Epoch is the primary's epoch when the request was accepted.
	// +optional
	Epoch int64 `json:"epoch,omitempty"`
	// Time the request entered its phase.
	Time metav1.Time `json:"time"`
}

// FederatedStatefulSetStatus is where every replica runs and how healthy it
// is.
type FederatedStatefulSetStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Replicas is the number of replicas placed.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// ReadyReplicas is the number of ready replicas over all clusters.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// Ordinals is the ordinal map: the contiguous range each cluster runs,
	// in the stable cluster order.
	// +listType=atomic
	// +optional
	Ordinals []OrdinalRange `json:"ordinals,omitempty"`
	// Target is the ordinal map the slices are converging to: placement's
	// last decision. It equals Ordinals when no change is under way.
	// +listType=atomic
	// +optional
	Target []OrdinalRange `json:"target,omitempty"`
	// Clusters counts replicas per cluster.
	// +listType=map
	// +listMapKey=cluster
	// +optional
	Clusters []ClusterReplicaStatus `json:"clusters,omitempty"`
	// ReplicaStatuses describe every replica, by ordinal.
	// +listType=map
	// +listMapKey=ordinal
	// +optional
	ReplicaStatuses []ReplicaStatus `json:"replicaStatuses,omitempty"`
	// Moves are the replicas moving between clusters now.
	// +listType=map
	// +listMapKey=ordinal
	// +optional
	Moves []OrdinalMove `json:"moves,omitempty"`
	// LeftBehind lists member objects the hub gave up removing.
	// +listType=atomic
	// +optional
	LeftBehind []LeftBehind `json:"leftBehind,omitempty"`
	// Primary is the fenced-in primary in PrimaryReplica mode.
	// +optional
	Primary *PrimaryStatus `json:"primary,omitempty"`
	// Conditions: Placed, Available, Progressing, Degraded, FailingOver.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// FailoverHistory holds the last changes of primary, newest first.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	// +optional
	FailoverHistory []FailoverRecord `json:"failoverHistory,omitempty"`
	// Requests are the hub's answers to the latest switchover and failover
	// request (annotations fedstate.io/switchover-to, fedstate.io/failover).
	// +listType=map
	// +listMapKey=kind
	// +kubebuilder:validation:MaxItems=2
	// +optional
	Requests []RequestStatus `json:"requests,omitempty"`
}

// FederatedStatefulSet is a stateful service whose replicas the hub places
// across member clusters, each replica keeping one global ordinal wherever
// it runs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas
// +kubebuilder:resource:shortName=fss,categories=fedstate
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Primary",type=string,JSONPath=`.status.primary.cluster`
// +kubebuilder:printcolumn:name="Epoch",type=integer,JSONPath=`.status.primary.epoch`
// +kubebuilder:printcolumn:name="Available",type=string,JSONPath=`.status.conditions[?(@.type=="Available")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FederatedStatefulSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the service.
	Spec FederatedStatefulSetSpec `json:"spec"`
	// Status is where every replica runs and how healthy it is.
	// +optional
	Status FederatedStatefulSetStatus `json:"status,omitempty"`
}

// FederatedStatefulSetList is a list of FederatedStatefulSet objects.
//
// +kubebuilder:object:root=true
type FederatedStatefulSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the services.
	Items []FederatedStatefulSet `json:"items"`
}
