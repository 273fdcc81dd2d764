package coordinator

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

// view is what the hub's API server says of one service, in the failover
// machine's terms: its policy, where placement allows replicas and where
// each replica runs. viewOf builds it; nothing in it does I/O.
type view struct {
	// name is the FederatedStatefulSet's name; replicas are name-<n>.
	name string
	// service is the name fedctl knows the service by, "ns/name".
	service string
	// replicas is spec.replicas: ordinals at or above it are gone.
	replicas int
	// policy is the failover policy from the spec.
	policy failover.Policy
	// allowed are the clusters placement allows replicas in, sorted.
	allowed []string
	// placed are the replicas that have a cluster, by ordinal.
	placed []placed
	// complete is true when every ordinal below replicas has a cluster.
	complete bool
	// primaryRegions are placement's preferred regions for the primary.
	primaryRegions []string
	// dns is how the service's names are published.
	dns dnsSpec
	// regions are the regions of all member clusters, by cluster.
	regions map[string]string
}

// placed is one replica with a cluster.
type placed struct {
	ordinal   int
	cluster   string
	region    string
	ready     bool
	reachable bool
	addrs     []netip.Addr
}

// dnsSpec is the DNS part of the spec.
type dnsSpec struct {
	enabled         bool
	publishNotReady bool
	ports           []dnsserver.Port
}

// viewOf builds the view of fss from its spec and status and the member
// clusters by name. A replica's cluster is reachable when its
// MemberCluster's Reachable condition is True; stepTimeout goes into the
// policy (the spec has no such field).
func viewOf(fss *v1alpha1.FederatedStatefulSet, members map[string]*v1alpha1.MemberCluster, stepTimeout time.Duration) view {
	v := view{
		name: fss.Name, service: fss.Namespace + "/" + fss.Name, replicas: int(fss.Spec.Replicas),
		policy:         policyOf(&fss.Spec, stepTimeout),
		primaryRegions: fss.Spec.Placement.PrimaryRegions,
		dns:            dnsOf(&fss.Spec),
		regions:        map[string]string{},
	}
	for name, mc := range members {
		v.regions[name] = mc.Spec.Region
	}
	ranges := fss.Status.Target
	if len(ranges) == 0 {
		ranges = fss.Status.Ordinals
	}
	for _, r := range ranges {
		if r.Count > 0 {
			v.allowed = append(v.allowed, r.Cluster)
		}
	}
	slices.Sort(v.allowed)
	v.allowed = slices.Compact(v.allowed)
	have := map[int]bool{}
	for _, rs := range fss.Status.ReplicaStatuses {
		n := int(rs.Ordinal)
		if n < 0 || n >= v.replicas || rs.Cluster == "" || have[n] {
			continue
		}
		have[n] = true
		p := placed{ordinal: n, cluster: rs.Cluster, ready: rs.Ready}
		if mc := members[rs.Cluster]; mc != nil {
			p.region = mc.Spec.Region
			p.reachable = meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberReachable)
		}
		if a, err := netip.ParseAddr(rs.PodIP); err == nil && a.Zone() == "" {
			p.addrs = []netip.Addr{a.Unmap()}
		}
		v.placed = append(v.placed, p)
	}
	slices.SortFunc(v.placed, func(a, b placed) int { return a.ordinal - b.ordinal })
	v.complete = v.replicas > 0 && len(v.placed) == v.replicas
	return v
}

// policyOf converts the spec's replication and failover settings.
func policyOf(spec *v1alpha1.FederatedStatefulSetSpec, stepTimeout time.Duration) failover.Policy {
	p := failover.Policy{Mode: failover.Automatic, SyncScope: failover.SyncAny, StepTimeout: stepTimeout}
	if f := spec.Failover; f != nil {
		if f.Mode == v1alpha1.FailoverManual {
			p.Mode = failover.Manual
		}
		p.DetectionGrace = duration(f.DetectionGracePeriod)
	}
	r := spec.Replication
	if r == nil {
		return p
	}
	p.SyncReplicas = max(int(r.SyncReplicas), 0)
	switch r.SyncReplicaScope {
	case v1alpha1.SyncSameRegion:
		p.SyncScope = failover.SyncSameRegion
	case v1alpha1.SyncOtherRegion:
		p.SyncScope = failover.SyncOtherRegion
	}
	if b := r.RPO; b != nil {
		p.RPO = &failover.RPO{}
		if b.MaxLagBytes != nil {
			n := uint64(max(*b.MaxLagBytes, 0))
			p.RPO.MaxLagBytes = &n
		}
		if b.MaxLag != nil {
			d := max(b.MaxLag.Duration, 0)
			p.RPO.MaxLag = &d
		}
	}
	return p
}

// duration reads an optional API duration; nil and negative are zero.
func duration(d *metav1.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return max(d.Duration, 0)
}

// dnsOf reads the DNS settings and the ports of the SRV names.
func dnsOf(spec *v1alpha1.FederatedStatefulSetSpec) dnsSpec {
	d := dnsSpec{enabled: true}
	if spec.DNS != nil {
		d.enabled = spec.DNS.Enabled == nil || *spec.DNS.Enabled
		d.publishNotReady = spec.DNS.PublishNotReady
	}
	for _, p := range spec.Ports {
		proto := strings.ToLower(string(p.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		d.ports = append(d.ports, dnsserver.Port{Name: p.Name, Protocol: proto, Port: uint16(p.Port)})
	}
	return d
}

// replica returns the placed replica of ordinal n, or nil.
func (v *view) replica(n int) *placed {
	i, ok := slices.BinarySearchFunc(v.placed, n, func(p placed, n int) int { return p.ordinal - n })
	if !ok {
		return nil
	}
	return &v.placed[i]
}

// primaryReplicas says whether the service runs in PrimaryReplica mode.
func primaryReplicas(fss *v1alpha1.FederatedStatefulSet) bool {
	return fss.Spec.Replication != nil && fss.Spec.Replication.Mode == v1alpha1.ReplicationPrimaryReplica
}
