package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReplicationMode says who keeps the replicas' data in step.
// +kubebuilder:validation:Enum=None;Native;PrimaryReplica
type ReplicationMode string

const (
	// ReplicationNone: replicas share no data fedstate knows of.
	ReplicationNone ReplicationMode = "None"
	// ReplicationNative: the service replicates by itself (etcd, Kafka
	// KRaft); fedstate only places replicas and serves DNS.
	ReplicationNative ReplicationMode = "Native"
	// ReplicationPrimaryReplica: one writable primary, the others follow it;
	// fedstate fences, fails over and publishes the primary.
	ReplicationPrimaryReplica ReplicationMode = "PrimaryReplica"
)

// ReplicationDriver names the driver that speaks to the replicas' database.
// +kubebuilder:validation:Enum=postgresql
type ReplicationDriver string

// DriverPostgreSQL drives PostgreSQL streaming replication.
const DriverPostgreSQL ReplicationDriver = "postgresql"

// SyncReplicaScope says where synchronous standbys must run relative to the
// primary.
// +kubebuilder:validation:Enum=Any;SameRegion;OtherRegion
type SyncReplicaScope string

const (
	// SyncAnywhere accepts a synchronous standby in any cluster.
	SyncAnywhere SyncReplicaScope = "Any"
	// SyncSameRegion keeps synchronous standbys in the primary's region
	// (low commit latency).
	SyncSameRegion SyncReplicaScope = "SameRegion"
	// SyncOtherRegion keeps synchronous standbys outside the primary's
	// region (no loss when the primary's region is lost).
	SyncOtherRegion SyncReplicaScope = "OtherRegion"
)

// RPOBudget bounds the data a failover may lose.
type RPOBudget struct {
	// MaxLagBytes is the largest replication lag, in bytes of log, a
	// candidate may have and still be promoted automatically.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxLagBytes *int64 `json:"maxLagBytes,omitempty"`
	// MaxLag is the largest replication lag, in time, a candidate may have
	// and still be promoted automatically.
	// +optional
	MaxLag *metav1.Duration `json:"maxLag,omitempty"`
}

// Replication configures how replicas keep their data in step.
// +kubebuilder:validation:XValidation:rule="self.mode != 'PrimaryReplica' || has(self.driver)",message="driver is required with mode PrimaryReplica",fieldPath=".driver"
// +kubebuilder:validation:XValidation:rule="self.mode == 'PrimaryReplica' || !has(self.syncReplicas) || self.syncReplicas == 0",message="syncReplicas needs mode PrimaryReplica",fieldPath=".syncReplicas"
type Replication struct {
	// Mode: None, Native or PrimaryReplica.
	// +kubebuilder:default=None
	Mode ReplicationMode `json:"mode"`
	// Driver speaks to the replicas' database, with mode PrimaryReplica.
	// +optional
	Driver ReplicationDriver `json:"driver,omitempty"`
	// SyncReplicas is the number of synchronous standbys a commit waits for;
	// it must be below the number of replicas.
	// +kubebuilder:validation:Minimum=0
	// +optional
	SyncReplicas int32 `json:"syncReplicas,omitempty"`
	// SyncReplicaScope says where synchronous standbys must run relative to
	// the primary.
	// +kubebuilder:default=Any
	// +optional
	SyncReplicaScope SyncReplicaScope `json:"syncReplicaScope,omitempty"`
	// RPO bounds the data an automatic failover may lose; without it only a
	// candidate with zero lag is promoted automatically.
	// +optional
	RPO *RPOBudget `json:"rpo,omitempty"`
}

// FailoverMode says whether the hub promotes a new primary by itself.
// +kubebuilder:validation:Enum=Automatic;Manual
type FailoverMode string

const (
	// FailoverAutomatic: the hub promotes the best candidate within the RPO
	// budget when the primary's lease expires.
	FailoverAutomatic FailoverMode = "Automatic"
	// FailoverManual: the hub reports the candidate and waits for
	// `fedctl failover`.
	FailoverManual FailoverMode = "Manual"
)

// Failover configures how a lost primary is replaced.
type Failover struct {
	// Mode: Automatic or Manual.
	// +kubebuilder:default=Automatic
	Mode FailoverMode `json:"mode"`
	// The primary's lease TTL is not a field: a lease is the etcd session
	// of the agent that holds the primary, so it is the agent's
	// (--lease-ttl) and the same for every primary of a member cluster.
	// DetectionGracePeriod is how long the hub waits after the lease
	// expires before it promotes, to ride out short blips.
	// +kubebuilder:default="0s"
	// +optional
	DetectionGracePeriod *metav1.Duration `json:"detectionGracePeriod,omitempty"`
}

// DNS configures the names the federation DNS servers publish for the
// service.
type DNS struct {
	// Enabled publishes the service's names.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// The records' TTL is not a field: every DNS server answers with its
	// own (--ttl), so that all regions give the same answer.
	// PublishNotReady also publishes replicas that are not ready.
	// +optional
	PublishNotReady bool `json:"publishNotReady,omitempty"`
}
