package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// The documents of fedctl get -o json|yaml. Their JSON field names are the
// documented output format: add fields, never rename or remove them.
// Lists are empty, never null.

// clusterList is what fedctl get clusters prints.
type clusterList struct {
	// Clusters, by name.
	Clusters []clusterRow `json:"clusters"`
}

// clusterRow is one MemberCluster.
type clusterRow struct {
	// Name of the member.
	Name string `json:"name"`
	// Region is spec.region.
	Region string `json:"region"`
	// Zone is spec.zone; empty when unset.
	Zone string `json:"zone"`
	// Ready is the Ready condition's status; empty when not set yet.
	Ready metav1.ConditionStatus `json:"ready"`
	// ReadyReason is the Ready condition's reason.
	ReadyReason string `json:"readyReason"`
	// AgentAlive is the AgentAlive condition's status; empty when not set.
	AgentAlive metav1.ConditionStatus `json:"agentAlive"`
	// AgentAliveReason is the AgentAlive condition's reason.
	AgentAliveReason string `json:"agentAliveReason"`
	// Taints are spec.taints as key=value:Effect.
	Taints []string `json:"taints"`
	// Created is the creation time.
	Created time.Time `json:"created"`
}

// serviceList is what fedctl get services prints.
type serviceList struct {
	// Services, by namespace and name.
	Services []serviceRow `json:"services"`
}

// serviceRow is one FederatedStatefulSet.
type serviceRow struct {
	// Namespace of the service.
	Namespace string `json:"namespace"`
	// Name of the service.
	Name string `json:"name"`
	// Mode is spec.replication.mode: None, Native or PrimaryReplica.
	Mode v1alpha1.ReplicationMode `json:"mode"`
	// DesiredReplicas is spec.replicas.
	DesiredReplicas int32 `json:"desiredReplicas"`
	// ReadyReplicas is status.readyReplicas.
	ReadyReplicas int32 `json:"readyReplicas"`
	// Primary is the committed primary; null without one.
	Primary *servicePrimary `json:"primary"`
	// Regions of the clusters the replicas run in, sorted.
	Regions []string `json:"regions"`
	// Created is the creation time.
	Created time.Time `json:"created"`
}

// servicePrimary names a service's primary.
type servicePrimary struct {
	// Replica is <name>-<ordinal>.
	Replica string `json:"replica"`
	// Cluster running it.
	Cluster string `json:"cluster"`
	// Epoch is the fencing epoch of its promotion.
	Epoch int64 `json:"epoch"`
}

// drillList is what fedctl get drills prints.
type drillList struct {
	// Drills, by namespace and name.
	Drills []drillRow `json:"drills"`
}

// drillRow is one FailoverDrill and its last run.
type drillRow struct {
	// Namespace of the drill.
	Namespace string `json:"namespace"`
	// Name of the drill.
	Name string `json:"name"`
	// Service is spec.service.
	Service string `json:"service"`
	// Kind is spec.kind.
	Kind v1alpha1.DrillKind `json:"kind"`
	// Phase is status.phase; empty before the hub saw the drill.
	Phase v1alpha1.DrillPhase `json:"phase"`
	// Step is status.step.
	Step v1alpha1.DrillStep `json:"step"`
	// RTO of the last run, a Go duration; empty when not measured.
	RTO string `json:"rto"`
	// Downtime of the last run, a Go duration; empty without traffic.
	Downtime string `json:"downtime"`
	// LostWrites is status.rpoTransactions; null when not verified.
	LostWrites *int64 `json:"lostWrites"`
	// Verdict of the last run; empty before one ends.
	Verdict v1alpha1.DrillVerdict `json:"verdict"`
	// Reason explains the verdict.
	Reason string `json:"reason"`
	// Runs counts the runs started.
	Runs int32 `json:"runs"`
	// StartedAt is when the last run began; null before the first.
	StartedAt *time.Time `json:"startedAt"`
	// FinishedAt is when the last run ended; null while it runs.
	FinishedAt *time.Time `json:"finishedAt"`
}

// renderClusters prints the member clusters in format; now gives the ages.
func renderClusters(format string, members []v1alpha1.MemberCluster, now time.Time) ([]byte, error) {
	doc := clusterList{Clusters: []clusterRow{}}
	for _, m := range members {
		r := clusterRow{Name: m.Name, Region: m.Spec.Region, Zone: m.Spec.Zone, Taints: []string{}, Created: m.CreationTimestamp.UTC()}
		if c := meta.FindStatusCondition(m.Status.Conditions, v1alpha1.MemberReady); c != nil {
			r.Ready, r.ReadyReason = c.Status, c.Reason
		}
		if c := meta.FindStatusCondition(m.Status.Conditions, v1alpha1.MemberAgentAlive); c != nil {
			r.AgentAlive, r.AgentAliveReason = c.Status, c.Reason
		}
		for _, t := range m.Spec.Taints {
			s := t.Key
			if t.Value != "" {
				s += "=" + t.Value
			}
			r.Taints = append(r.Taints, s+":"+string(t.Effect))
		}
		doc.Clusters = append(doc.Clusters, r)
	}
	slices.SortFunc(doc.Clusters, func(a, b clusterRow) int { return cmp.Compare(a.Name, b.Name) })
	return render(format, doc, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tREGION\tZONE\tREADY\tAGENT\tTAINTS\tAGE")
		for _, r := range doc.Clusters {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Region, orDash(r.Zone), condition(r.Ready, r.ReadyReason),
				condition(r.AgentAlive, r.AgentAliveReason), orDash(strings.Join(r.Taints, ",")), age(r.Created, now))
		}
		tw.Flush()
	})
}

// condition writes a condition's status for a table: the status alone when
// True, with its reason otherwise; - when not set.
func condition(status metav1.ConditionStatus, reason string) string {
	if status == "" {
		return "-"
	}
	if status == metav1.ConditionTrue || reason == "" {
		return string(status)
	}
	return string(status) + " (" + reason + ")"
}

// renderServices prints the services in format; members give the regions
// of their clusters and now the ages.
func renderServices(format string, services []v1alpha1.FederatedStatefulSet, members []v1alpha1.MemberCluster, now time.Time) ([]byte, error) {
	doc := serviceList{Services: []serviceRow{}}
	for i := range services {
		fss := &services[i]
		r := serviceRow{Namespace: fss.Namespace, Name: fss.Name, Mode: v1alpha1.ReplicationNone,
			DesiredReplicas: fss.Spec.Replicas, ReadyReplicas: fss.Status.ReadyReplicas, Regions: []string{},
			Created: fss.CreationTimestamp.UTC()}
		if fss.Spec.Replication != nil && fss.Spec.Replication.Mode != "" {
			r.Mode = fss.Spec.Replication.Mode
		}
		if p := fss.Status.Primary; p != nil && r.Mode == v1alpha1.ReplicationPrimaryReplica {
			r.Primary = &servicePrimary{Replica: replicaName(fss.Name, p.Ordinal), Cluster: p.Cluster, Epoch: p.Epoch}
		}
		regions := regionsOf(fss, members)
		for _, o := range fss.Status.Ordinals {
			if reg := regions[o.Cluster]; reg != "" && o.Count > 0 && !slices.Contains(r.Regions, reg) {
				r.Regions = append(r.Regions, reg)
			}
		}
		slices.Sort(r.Regions)
		doc.Services = append(doc.Services, r)
	}
	slices.SortFunc(doc.Services, func(a, b serviceRow) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return render(format, doc, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAMESPACE\tNAME\tMODE\tREADY\tPRIMARY\tEPOCH\tREGIONS\tAGE")
		for _, r := range doc.Services {
			primary, epoch := "-", "-"
			if p := r.Primary; p != nil {
				primary, epoch = p.Replica+" in "+p.Cluster, fmt.Sprint(p.Epoch)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Mode, r.ReadyReplicas, r.DesiredReplicas,
				primary, epoch, orDash(strings.Join(r.Regions, ",")), age(r.Created, now))
		}
		tw.Flush()
	})
}

// renderDrills prints the drills in format; now gives the times of their
// last runs.
func renderDrills(format string, drills []v1alpha1.FailoverDrill, now time.Time) ([]byte, error) {
	doc := drillList{Drills: []drillRow{}}
	for i := range drills {
		d := &drills[i]
		st := &d.Status
		doc.Drills = append(doc.Drills, drillRow{Namespace: d.Namespace, Name: d.Name, Service: d.Spec.Service, Kind: d.Spec.Kind,
			Phase: st.Phase, Step: st.Step, RTO: durationOf(st.RTO), Downtime: durationOf(st.Downtime),
			LostWrites: st.RPOTransactions, Verdict: st.Verdict, Reason: st.Reason, Runs: st.Runs,
			StartedAt: timeOf(st.StartedAt), FinishedAt: timeOf(st.FinishedAt)})
	}
	slices.SortFunc(doc.Drills, func(a, b drillRow) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return render(format, doc, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAMESPACE\tNAME\tSERVICE\tKIND\tPHASE\tSTEP\tRTO\tDOWNTIME\tLOST\tVERDICT\tLAST RUN")
		for _, r := range doc.Drills {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Service, r.Kind,
				orDash(string(r.Phase)), orDash(string(r.Step)), orDash(r.RTO), orDash(r.Downtime), countOrDash(r.LostWrites),
				orDash(string(r.Verdict)), lastRun(r, now))
		}
		tw.Flush()
	})
}

// lastRun writes a drill's last run for a table: "#3 finished 5m ago",
// "#1 started 20s ago" while it runs, - before the first.
func lastRun(r drillRow, now time.Time) string {
	switch {
	case r.Runs == 0 || r.StartedAt == nil:
		return "-"
	case r.FinishedAt != nil:
		return fmt.Sprintf("#%d finished %s ago", r.Runs, age(*r.FinishedAt, now))
	}
	return fmt.Sprintf("#%d started %s ago", r.Runs, age(*r.StartedAt, now))
}

// durationOf writes an optional API duration rounded to the millisecond;
// empty when unset.
func durationOf(d *metav1.Duration) string {
	if d == nil {
		return ""
	}
	return d.Round(time.Millisecond).String()
}

// countOrDash writes an optional count; - when unknown.
func countOrDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}
