package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DrillKind is what a FailoverDrill rehearses.
// +kubebuilder:validation:Enum=Switchover;RegionOutage;Failback
type DrillKind string

// Drill kinds.
const (
	// DrillSwitchover: a planned move of the primary to the target region,
	// a hold, and a move back to the replica that was primary.
	DrillSwitchover DrillKind = "Switchover"
	// DrillRegionOutage: the target region (default: the primary's) is
	// treated as lost: its member clusters are tainted, the primary moves
	// away from it, and after the hold the region comes back and the
	// primary returns.
	DrillRegionOutage DrillKind = "RegionOutage"
	// DrillFailback: the primary is switched back to the target region,
	// once.
	DrillFailback DrillKind = "Failback"
)

// DrillPhase is where a FailoverDrill stands.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed;Aborted
type DrillPhase string

// Drill phases: Pending, Running, then one of the others.
const (
	// DrillPending: the drill has not started (waiting for its schedule or
	// for another drill of the service).
	DrillPending DrillPhase = "Pending"
	// DrillRunning: the drill is under way.
	DrillRunning DrillPhase = "Running"
	// DrillSucceeded: the drill ran to its end and every criterion held.
	DrillSucceeded DrillPhase = "Succeeded"
	// DrillFailed: the drill ran, or could not start, and a criterion did
	// not hold; status.reason says which.
	DrillFailed DrillPhase = "Failed"
	// DrillAborted: an abort criterion stopped the drill; the hub reverts
	// what it changed (status.step Reverting, then Done).
	DrillAborted DrillPhase = "Aborted"
)

// DrillStep is the step of a running drill, where the hub resumes after a
// restart.
// +kubebuilder:validation:Enum=Away;Hold;Back;Reverting;Report;Done
type DrillStep string

// Drill steps, in order; Reverting replaces Hold and Back after an abort.
const (
	// DrillStepAway: the primary is being switched to the target (away
	// from the lost region).
	DrillStepAway DrillStep = "Away"
	// DrillStepHold: the primary stays where the drill moved it for
	// spec.holdFor.
	DrillStepHold DrillStep = "Hold"
	// DrillStepBack: the region is restored and the primary switched back.
	DrillStepBack DrillStep = "Back"
	// DrillStepReverting: after an abort, taints are removed and the
	// primary switched back.
	DrillStepReverting DrillStep = "Reverting"
	// DrillStepReport: the load is stopped, the acknowledged writes are
	// verified and the report written.
	DrillStepReport DrillStep = "Report"
	// DrillStepDone: the run is over.
	DrillStepDone DrillStep = "Done"
)

// DrillVerdict is the outcome of a drill run.
// +kubebuilder:validation:Enum=Passed;Failed;Aborted
type DrillVerdict string

// Drill verdicts.
const (
	// VerdictPassed: every criterion held.
	VerdictPassed DrillVerdict = "Passed"
	// VerdictFailed: a criterion did not hold.
	VerdictFailed DrillVerdict = "Failed"
	// VerdictAborted: an abort criterion stopped the drill early.
	VerdictAborted DrillVerdict = "Aborted"
)

// Condition types and reasons of a FailoverDrill.
const (
	// DrillProgressing is True while a run is under way; its reason is the
	// step (SwitchingAway, Holding, SwitchingBack, Reverting, Reporting)
	// or Waiting, and False with Finished or Invalid.
	DrillProgressing = "Progressing"

	// ReasonDrillWaiting: another drill of the service is running, or the
	// schedule is not due.
	ReasonDrillWaiting = "Waiting"
	// ReasonDrillSwitchingAway: the primary is being moved.
	ReasonDrillSwitchingAway = "SwitchingAway"
	// ReasonDrillHolding: the primary stays moved for spec.holdFor.
	ReasonDrillHolding = "Holding"
	// ReasonDrillSwitchingBack: the primary is being moved back.
	ReasonDrillSwitchingBack = "SwitchingBack"
	// ReasonDrillReverting: an aborted drill is undoing what it changed.
	ReasonDrillReverting = "Reverting"
	// ReasonDrillReporting: the writes are verified and the report written.
	ReasonDrillReporting = "Reporting"
	// ReasonDrillFinished: the run is over; status.verdict says how.
	ReasonDrillFinished = "Finished"
	// ReasonDrillInvalid: the drill cannot run (no such service, not in
	// PrimaryReplica mode, bad schedule, ...); the message says why.
	ReasonDrillInvalid = "Invalid"
)

// TaintDrill is the key of the NoSchedule taint a RegionOutage drill puts
// on the member clusters of the lost region; its value is the drill's UID.
const TaintDrill = "fedstate.io/drill"

// DrillAbort says when a drill stops early and reverts.
type DrillAbort struct {
	// MaxRTO aborts the drill when a switchover it requested has not
	// completed this long after the request, and fails it when the
	// measured RTO is longer; unset: no limit.
	// +optional
	MaxRTO *metav1.Duration `json:"maxRTO,omitempty"`
	// MaxDataLossBytes aborts the drill when a promotion lost more log than
	// this (failoverHistory's dataLossBytes); unset: no limit.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxDataLossBytes *int64 `json:"maxDataLossBytes,omitempty"`
	// OnNoCandidate aborts the drill when the coordinator reports that no
	// replica may be promoted (condition FailingOver, reason NoCandidate).
	// +kubebuilder:default=true
	// +optional
	OnNoCandidate *bool `json:"onNoCandidate,omitempty"`
}

// DrillLoad is the client traffic of a drill (federation/drill/load):
// numbered writes through the service's primary DNS name.
type DrillLoad struct {
	// Rate is how many writes a second are attempted; 0 sends none.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=20
	// +optional
	Rate *int32 `json:"rate,omitempty"`
	// DNSServer is the federation DNS server (host:port) the writes
	// resolve the primary at.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:default="127.0.0.1:5353"
	// +optional
	DNSServer string `json:"dnsServer,omitempty"`
	// Zone is the federation zone, fully qualified.
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+$`
	// +kubebuilder:default="fedstate.local."
	// +optional
	Zone string `json:"zone,omitempty"`
}

// FailoverDrillSpec is the drill to run.
// +kubebuilder:validation:XValidation:rule="self.kind == 'RegionOutage' || (has(self.targetRegion) && size(self.targetRegion) > 0)",message="targetRegion is required for kind Switchover and Failback",fieldPath=".targetRegion"
type FailoverDrillSpec struct {
	// Service is the name of the FederatedStatefulSet, in the drill's
	// namespace, in PrimaryReplica mode.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Service string `json:"service"`
	// Kind of drill: Switchover, RegionOutage or Failback.
	Kind DrillKind `json:"kind"`
	// TargetRegion: where the primary moves (Switchover, Failback), or the
	// region treated as lost (RegionOutage; default: the primary's).
	// +kubebuilder:validation:MaxLength=63
	// +optional
	TargetRegion string `json:"targetRegion,omitempty"`
	// Schedule runs the drill repeatedly, in cron syntax with five fields
	// (minute hour day-of-month month day-of-week), in UTC; unset: once,
	// when created.
	// +kubebuilder:validation:Pattern=`^\s*\S+(\s+\S+){4}\s*$`
	// +optional
	Schedule string `json:"schedule,omitempty"`
	// Abort criteria.
	// +kubebuilder:default={}
	// +optional
	Abort DrillAbort `json:"abort,omitempty"`
	// Load is the client traffic measured during the drill.
	// +kubebuilder:default={}
	// +optional
	Load DrillLoad `json:"load,omitempty"`
	// HoldFor is how long the primary stays moved (the outage lasts)
	// before the failback; Switchover and RegionOutage.
	// +kubebuilder:default="30s"
	// +optional
	HoldFor *metav1.Duration `json:"holdFor,omitempty"`
}

// DrillRequest is one switchover a drill requested through the
// fedstate.io/switchover-to annotation.
type DrillRequest struct {
	// ID of the request: the drill's UID and a counter.
	ID string `json:"id"`
	// To is the request's target: a replica or a region.
	To string `json:"to"`
	// RequestedAt is when the drill set the annotation.
	RequestedAt metav1.MicroTime `json:"requestedAt"`
	// Phase of the request as the coordinator reports it in the service's
	// status.requests; empty until it answers.
	// +optional
	Phase RequestPhase `json:"phase,omitempty"`
	// Epoch is the primary's epoch when the coordinator accepted it.
	// +optional
	Epoch int64 `json:"epoch,omitempty"`
	// Message is the coordinator's.
	// +optional
	Message string `json:"message,omitempty"`
	// CompletedAt is when the request reached its final phase.
	// +optional
	CompletedAt *metav1.MicroTime `json:"completedAt,omitempty"`
}

// DrillPhaseRecord is one measured phase of a drill.
type DrillPhaseRecord struct {
	// Name of the phase: Detect, Fence, Promote, DNSPublished,
	// FirstClientSuccess, Hold, Failback.
	Name string `json:"name"`
	// Start of the phase.
	Start metav1.MicroTime `json:"start"`
	// End of the phase; unset for an instant.
	// +optional
	End *metav1.MicroTime `json:"end,omitempty"`
	// Duration is End - Start.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// FailoverDrillStatus is what the drill did and measured.
type FailoverDrillStatus struct {
	// ObservedGeneration is the spec generation the current run uses.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase of the drill.
	// +optional
	Phase DrillPhase `json:"phase,omitempty"`
	// Step of the current run.
	// +optional
	Step DrillStep `json:"step,omitempty"`
	// Runs counts the runs started.
	// +optional
	Runs int32 `json:"runs,omitempty"`
	// Conditions: Progressing.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// TargetRegion is the region the run used: spec.targetRegion, or the
	// primary's for a RegionOutage without one.
	// +optional
	TargetRegion string `json:"targetRegion,omitempty"`
	// OriginalPrimary is the replica that was primary when the run began
	// ("db-0"): where the primary returns.
	// +optional
	OriginalPrimary string `json:"originalPrimary,omitempty"`
	// TaintedClusters are the member clusters the run tainted.
	// +listType=atomic
	// +optional
	TaintedClusters []string `json:"taintedClusters,omitempty"`
	// Requests are the switchovers the run requested, in order.
	// +listType=atomic
	// +optional
	Requests []DrillRequest `json:"requests,omitempty"`
	// Phases measured, in the order they began.
	// +listType=atomic
	// +optional
	Phases []DrillPhaseRecord `json:"phases,omitempty"`
	// RTO is the time from the first switchover's request to the first
	// write acknowledged by the new primary (or its publication in DNS).
	// +optional
	RTO *metav1.Duration `json:"rto,omitempty"`
	// RPOBytes is the log lost by the run's promotions.
	// +optional
	RPOBytes *int64 `json:"rpoBytes,omitempty"`
	// RPOTransactions counts the acknowledged client writes missing on
	// the final primary.
	// +optional
	RPOTransactions *int64 `json:"rpoTransactions,omitempty"`
	// Errors counts the client writes that failed.
	// +optional
	Errors int64 `json:"errors,omitempty"`
	// Downtime is the longest time clients could not write.
	// +optional
	Downtime *metav1.Duration `json:"downtime,omitempty"`
	// Verdict of the run.
	// +optional
	Verdict DrillVerdict `json:"verdict,omitempty"`
	// Reason explains the verdict in one sentence.
	// +optional
	Reason string `json:"reason,omitempty"`
	// ReportPath is the directory of the run's report on the hub
	// (timeline.svg, timeline.png, summary.txt).
	// +optional
	ReportPath string `json:"reportPath,omitempty"`
	// StartedAt is when the run began.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the run ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// LastScheduleTime is the schedule time of the latest scheduled run.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
}

// FailoverDrill rehearses losing a region of a FederatedStatefulSet: a
// planned switchover, a simulated regional outage or a failback, under
// measured client load, and reports its RTO and RPO.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=drill,categories=fedstate
// +kubebuilder:printcolumn:name="Service",type=string,JSONPath=`.spec.service`
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.status.targetRegion`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.step`,priority=1
// +kubebuilder:printcolumn:name="RTO",type=string,JSONPath=`.status.rto`
// +kubebuilder:printcolumn:name="Downtime",type=string,JSONPath=`.status.downtime`
// +kubebuilder:printcolumn:name="Lost",type=integer,JSONPath=`.status.rpoTransactions`
// +kubebuilder:printcolumn:name="Verdict",type=string,JSONPath=`.status.verdict`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FailoverDrill struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the drill to run.
	Spec FailoverDrillSpec `json:"spec"`
	// Status is what the drill did and measured.
	// +optional
	Status FailoverDrillStatus `json:"status,omitempty"`
}

// FailoverDrillList is a list of FailoverDrill objects.
//
// +kubebuilder:object:root=true
type FailoverDrillList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the drills.
	Items []FailoverDrill `json:"items"`
}
