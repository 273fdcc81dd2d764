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
	// LeaseTTL is the time-to-live of the primary's etcd lease; the agent
	// fences the primary after half of it without renewal.
	// +kubebuilder:default="10s"
	// +optional
	LeaseTTL *metav1.Duration `json:"leaseTTL,omitempty"`
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
	// TTL of the published records, in seconds; the primary's records use
	// it too, so it bounds how long a client may cache an old primary.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +kubebuilder:default=5
	// +optional
	TTL *int32 `json:"ttl,omitempty"`
	// PublishNotReady also publishes replicas that are not ready.
	// +optional
	PublishNotReady bool `json:"publishNotReady,omitempty"`
}
