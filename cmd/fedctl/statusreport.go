package main

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// historyShown is how many failover records fedctl status shows: enough to
// see a flapping primary, short enough for a terminal.
const historyShown = 5

// serviceReport is what fedctl status prints about one FederatedStatefulSet:
// -o json and -o yaml print it as it is, -o table lays it out. Its JSON
// field names are the documented output format: add fields, never rename
// or remove them. Lists are empty, never null.
type serviceReport struct {
	// Namespace of the FederatedStatefulSet.
	Namespace string `json:"namespace"`
	// Name of the FederatedStatefulSet.
	Name string `json:"name"`
	// DesiredReplicas is spec.replicas.
	DesiredReplicas int32 `json:"desiredReplicas"`
	// ReadyReplicas is status.readyReplicas.
	ReadyReplicas int32 `json:"readyReplicas"`
	// ReplicationMode is spec.replication.mode: None, Native or
	// PrimaryReplica.
	ReplicationMode v1alpha1.ReplicationMode `json:"replicationMode"`
	// Primary is the fenced-in primary; null outside PrimaryReplica mode
	// and before the first one is committed.
	Primary *primaryReport `json:"primary"`
	// FailingOver is the FailingOver condition; null when the hub has not
	// set it.
	FailingOver *conditionReport `json:"failingOver"`
	// UnhealthyConditions are the conditions Placed, Available, Progressing
	// and Degraded that are not in their healthy state (True, True, False,
	// False), in that order.
	UnhealthyConditions []conditionReport `json:"unhealthyConditions"`
	// Replicas are the replicas grouped by region, then cluster, then by
	// ordinal; replicas not placed in any cluster come last.
	Replicas []replicaReport `json:"replicas"`
	// DNS are the service's names in the federation zone.
	DNS dnsReport `json:"dns"`
	// Failovers are the latest changes of primary (status.failoverHistory),
	// newest first, at most five.
	Failovers []failoverReport `json:"failovers"`
	// Requests are the hub's answers to the latest switchover and failover
	// request (status.requests).
	Requests []requestReport `json:"requests"`
}

// primaryReport names the primary.
type primaryReport struct {
	// Replica is the primary's name, <name>-<ordinal>.
	Replica string `json:"replica"`
	// Ordinal of the primary.
	Ordinal int32 `json:"ordinal"`
	// Cluster running the primary.
	Cluster string `json:"cluster"`
	// Region of the cluster; empty when unknown.
	Region string `json:"region"`
	// Epoch is the fencing epoch of its promotion.
	Epoch int64 `json:"epoch"`
	// Since is when it was promoted; null when unknown.
	Since *time.Time `json:"since"`
}

// conditionReport is one condition of the service.
type conditionReport struct {
	// Type of the condition, such as Degraded.
	Type string `json:"type"`
	// Status: True, False or Unknown.
	Status metav1.ConditionStatus `json:"status"`
	// Reason, a CamelCase word.
	Reason string `json:"reason"`
	// Message for people.
	Message string `json:"message"`
	// Since is the condition's last transition.
	Since time.Time `json:"since"`
}

// replicaReport is one replica.
type replicaReport struct {
	// Name of the replica, <name>-<ordinal>, the same in every cluster.
	Name string `json:"name"`
	// Ordinal is the replica's global ordinal.
	Ordinal int32 `json:"ordinal"`
	// Region of the replica's cluster; empty when unknown.
	Region string `json:"region"`
	// Cluster running the replica; empty while it is not placed.
	Cluster string `json:"cluster"`
	// Role: Primary, SyncStandby, AsyncReplica, Fenced or Unknown (never
	// reported) in PrimaryReplica mode; empty in the other modes.
	Role v1alpha1.ReplicaRole `json:"role"`
	// Ready is the pod's readiness.
	Ready bool `json:"ready"`
	// PodIP is the pod's address; empty when it has none.
	PodIP string `json:"podIP"`
	// LagBytes is the replication lag behind the primary; null when not
	// reported.
	LagBytes *int64 `json:"lagBytes"`
	// DNSName is the replica's own name, <name>-<n>.<name>.<ns>.svc.<zone>.
	DNSName string `json:"dnsName"`
}

// dnsReport lists the names the federation DNS serves for the service.
type dnsReport struct {
	// Zone is the federation zone, fully qualified.
	Zone string `json:"zone"`
	// Published is false when spec.dns.enabled is false: the names are
	// then not served.
	Published bool `json:"published"`
	// Service is <name>.<ns>.svc.<zone>: every ready replica.
	Service string `json:"service"`
	// Primary is primary.<name>.<ns>.svc.<zone>; empty outside
	// PrimaryReplica mode.
	Primary string `json:"primary"`
	// SRV are the SRV names, one per port of the spec.
	SRV []srvReport `json:"srv"`
}

// srvReport is the SRV names of one port.
type srvReport struct {
	// PortName is the port's name in the spec.
	PortName string `json:"portName"`
	// Protocol is tcp or udp.
	Protocol string `json:"protocol"`
	// Port is the port number.
	Port int32 `json:"port"`
	// Name is _<port>._<proto>.<name>.<ns>.svc.<zone>: every ready replica.
	Name string `json:"name"`
	// Primary is _<port>._<proto>.primary.<name>.<ns>.svc.<zone>; empty
	// outside PrimaryReplica mode.
	Primary string `json:"primary"`
}

// failoverReport is one change of primary.
type failoverReport struct {
	// Time the new primary was published.
	Time time.Time `json:"time"`
	// Reason, such as LeaseExpired, Switchover, Manual or Bootstrap.
	Reason string `json:"reason"`
	// From is the old primary's name; empty for the first primary.
	From string `json:"from"`
	// To is the new primary's name.
	To string `json:"to"`
	// Epoch of the promotion.
	Epoch int64 `json:"epoch"`
	// RTO is the time from detection to publication, in Go duration
	// syntax ("4.2s"); empty when not measured.
	RTO string `json:"rto"`
	// DataLossBytes is the loss estimated at promotion, a lower bound;
	// null when unknown.
	DataLossBytes *int64 `json:"dataLossBytes"`
	// MeasuredLossBytes and LostTransactions are the loss measured on the
	// old primary when it returned, before it was rewound; null until then.
	MeasuredLossBytes *int64 `json:"measuredLossBytes"`
	LostTransactions  *int64 `json:"lostTransactions"`
	// LossMeasuredAt is when the measurement reached the hub; null until
	// then.
	LossMeasuredAt *time.Time `json:"lossMeasuredAt"`
	// AcceptedDataLoss is true when an operator accepted losing data.
	AcceptedDataLoss bool `json:"acceptedDataLoss"`
}

// requestReport is the hub's answer to one operator request.
type requestReport struct {
	// Kind: Switchover or Failover.
	Kind v1alpha1.RequestKind `json:"kind"`
	// ID of the request.
	ID string `json:"id"`
	// Phase: Accepted (under way), Refused, Succeeded or Failed.
	Phase v1alpha1.RequestPhase `json:"phase"`
	// Message says what the hub did or why not.
	Message string `json:"message"`
	// Epoch of the primary when the request was accepted.
	Epoch int64 `json:"epoch"`
	// Time the request entered its phase.
	Time time.Time `json:"time"`
}

// healthyStatus is the healthy state of the conditions reported only when
// they are not in it.
var healthyStatus = []struct {
	condition string
	status    metav1.ConditionStatus
}{
	{v1alpha1.ServicePlaced, metav1.ConditionTrue},
	{v1alpha1.ServiceAvailable, metav1.ConditionTrue},
	{v1alpha1.ServiceProgressing, metav1.ConditionFalse},
	{v1alpha1.ServiceDegraded, metav1.ConditionFalse},
}

// buildReport describes fss; members give the regions of its clusters and
// zone (canonical, fully qualified) the DNS names.
func buildReport(fss *v1alpha1.FederatedStatefulSet, members []v1alpha1.MemberCluster, zone string) *serviceReport {
	st := &fss.Status
	r := &serviceReport{
		Namespace: fss.Namespace, Name: fss.Name,
		DesiredReplicas: fss.Spec.Replicas, ReadyReplicas: st.ReadyReplicas,
		ReplicationMode:     v1alpha1.ReplicationNone,
		UnhealthyConditions: []conditionReport{},
		Failovers:           []failoverReport{},
		Requests:            []requestReport{},
	}
	if fss.Spec.Replication != nil && fss.Spec.Replication.Mode != "" {
		r.ReplicationMode = fss.Spec.Replication.Mode
	}
	primaryMode := r.ReplicationMode == v1alpha1.ReplicationPrimaryReplica
	regions := regionsOf(fss, members)
	if p := st.Primary; p != nil && primaryMode {
		r.Primary = &primaryReport{Replica: replicaName(fss.Name, p.Ordinal), Ordinal: p.Ordinal,
			Cluster: p.Cluster, Region: regions[p.Cluster], Epoch: p.Epoch, Since: timeOf(p.Since)}
	}
	for _, c := range st.Conditions {
		if c.Type == v1alpha1.ServiceFailingOver {
			r.FailingOver = conditionOf(c)
		}
	}
	for _, h := range healthyStatus {
		for _, c := range st.Conditions {
			if c.Type == h.condition && c.Status != h.status {
				r.UnhealthyConditions = append(r.UnhealthyConditions, *conditionOf(c))
			}
		}
	}
	r.Replicas = replicasOf(fss, regions, zone, primaryMode)
	r.DNS = dnsOf(fss, zone, primaryMode)
	for _, h := range st.FailoverHistory[:min(len(st.FailoverHistory), historyShown)] {
		f := failoverReport{Time: h.Time.UTC(), Reason: h.Reason, To: replicaName(fss.Name, h.ToOrdinal),
			Epoch: h.Epoch, DataLossBytes: h.DataLossBytes, AcceptedDataLoss: h.AcceptedDataLoss,
			MeasuredLossBytes: h.MeasuredLossBytes, LostTransactions: h.LostTransactions, LossMeasuredAt: timeOf(h.LossMeasuredAt)}
		if h.FromOrdinal != nil {
			f.From = replicaName(fss.Name, *h.FromOrdinal)
		}
		if h.RTO != nil {
			f.RTO = h.RTO.Round(time.Millisecond).String()
		}
		r.Failovers = append(r.Failovers, f)
	}
	for _, q := range st.Requests {
		r.Requests = append(r.Requests, requestReport{Kind: q.Kind, ID: q.ID, Phase: q.Phase,
			Message: q.Message, Epoch: q.Epoch, Time: q.Time.UTC()})
	}
	return r
}

// regionsOf maps cluster names to regions: the MemberClusters' spec, else
// what the service's status recorded.
func regionsOf(fss *v1alpha1.FederatedStatefulSet, members []v1alpha1.MemberCluster) map[string]string {
	regions := map[string]string{}
	for _, c := range fss.Status.Clusters {
		regions[c.Cluster] = c.Region
	}
	for _, m := range members {
		regions[m.Name] = m.Spec.Region
	}
	return regions
}

// replicasOf lists the replicas below spec.replicas and any others the
// status still describes, grouped by region and cluster.
func replicasOf(fss *v1alpha1.FederatedStatefulSet, regions map[string]string, zone string, primaryMode bool) []replicaReport {
	seen := map[int32]*v1alpha1.ReplicaStatus{}
	for i := range fss.Status.ReplicaStatuses {
		seen[fss.Status.ReplicaStatuses[i].Ordinal] = &fss.Status.ReplicaStatuses[i]
	}
	ordinals := make([]int32, 0, int(fss.Spec.Replicas)+len(seen))
	for n := range fss.Spec.Replicas {
		ordinals = append(ordinals, n)
	}
	for n := range seen {
		if n >= fss.Spec.Replicas {
			ordinals = append(ordinals, n)
		}
	}
	out := make([]replicaReport, 0, len(ordinals))
	for _, n := range ordinals {
		r := replicaReport{Name: replicaName(fss.Name, n), Ordinal: n,
			DNSName: dnsserver.Key{Namespace: fss.Namespace, Service: fss.Name, Kind: dnsserver.KindReplica, Ordinal: int(n)}.DNSName(zone)}
		if s := seen[n]; s != nil {
			r.Cluster, r.Ready, r.PodIP, r.LagBytes, r.Role = s.Cluster, s.Ready, s.PodIP, s.LagBytes, s.Role
		} else {
			r.Cluster = clusterOf(fss.Status.Ordinals, n)
		}
		switch {
		case !primaryMode:
			r.Role = ""
		case r.Role == "":
			r.Role = v1alpha1.RoleUnknown
		}
		r.Region = regions[r.Cluster]
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b replicaReport) int {
		return cmp.Or(
			compareBool(a.Cluster == "", b.Cluster == ""),
			compareBool(a.Region == "", b.Region == ""),
			strings.Compare(a.Region, b.Region),
			strings.Compare(a.Cluster, b.Cluster),
			cmp.Compare(a.Ordinal, b.Ordinal))
	})
	return out
}

// dnsOf names the service-wide DNS names.
func dnsOf(fss *v1alpha1.FederatedStatefulSet, zone string, primaryMode bool) dnsReport {
	key := dnsserver.Key{Namespace: fss.Namespace, Service: fss.Name, Kind: dnsserver.KindService}
	d := dnsReport{Zone: zone, Published: fss.Spec.DNS == nil || fss.Spec.DNS.Enabled == nil || *fss.Spec.DNS.Enabled,
		Service: key.DNSName(zone), SRV: []srvReport{}}
	primary := dnsserver.Key{Namespace: fss.Namespace, Service: fss.Name, Kind: dnsserver.KindPrimary}.DNSName(zone)
	if primaryMode {
		d.Primary = primary
	}
	for _, p := range fss.Spec.Ports {
		proto := strings.ToLower(string(p.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		prefix := "_" + p.Name + "._" + proto + "."
		s := srvReport{PortName: p.Name, Protocol: proto, Port: p.Port, Name: prefix + d.Service}
		if primaryMode {
			s.Primary = prefix + primary
		}
		d.SRV = append(d.SRV, s)
	}
	return d
}

// clusterOf finds the cluster whose ordinal range holds n; "" if none.
func clusterOf(ranges []v1alpha1.OrdinalRange, n int32) string {
	for _, r := range ranges {
		if n >= r.Start && n < r.Start+r.Count {
			return r.Cluster
		}
	}
	return ""
}

// replicaName is the name of replica n of service name: <name>-<n>.
func replicaName(name string, n int32) string {
	return name + "-" + strconv.Itoa(int(n))
}

// conditionOf reports a condition.
func conditionOf(c metav1.Condition) *conditionReport {
	return &conditionReport{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message,
		Since: c.LastTransitionTime.UTC()}
}

// timeOf converts an optional API time to UTC.
func timeOf(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
