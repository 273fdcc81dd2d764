package federation

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/placement"
)

// The placement engine has its own small types so that it depends on no
// Kubernetes library; these functions build them from the API objects.

// PlacementCluster describes a MemberCluster to placement. It is healthy
// when its Ready condition is True; capacity is how many more replicas of
// the service the member can host, nil when unknown.
func PlacementCluster(mc *v1alpha1.MemberCluster, capacity *int) placement.Cluster {
	c := placement.Cluster{
		Name:     mc.Name,
		Region:   mc.Spec.Region,
		Zone:     mc.Spec.Zone,
		Labels:   mc.Labels,
		Healthy:  conditionTrue(mc.Status.Conditions, v1alpha1.MemberReady),
		Capacity: capacity,
	}
	for _, t := range mc.Spec.Taints {
		c.Taints = append(c.Taints, placement.Taint{Key: t.Key, Value: t.Value, Effect: placement.Effect(t.Effect)})
	}
	return c
}

// PlacementRequest turns a service's spec into a placement request.
func PlacementRequest(spec *v1alpha1.FederatedStatefulSetSpec) placement.Request {
	p := spec.Placement
	r := placement.Request{
		Replicas:       int(spec.Replicas),
		Selector:       selector(p.ClusterSelector),
		PrimaryRegions: p.PrimaryRegions,
	}
	for _, t := range p.Tolerations {
		op := placement.Equal
		if t.Operator == v1alpha1.TolerationExists {
			op = placement.Exists
		}
		r.Tolerations = append(r.Tolerations, placement.Toleration{Key: t.Key, Operator: op, Value: t.Value, Effect: placement.Effect(t.Effect)})
	}
	for _, s := range p.SpreadConstraints {
		ps := placement.Spread{Topology: placement.Topology(s.TopologyKey), MaxSkew: int(s.MaxSkew), Soft: s.WhenUnsatisfiable == v1alpha1.ScheduleAnyway}
		if s.MinDomains != nil {
			ps.MinDomains = int(*s.MinDomains)
		}
		r.Spread = append(r.Spread, ps)
	}
	for _, c := range p.Clusters {
		r.Bounds = append(r.Bounds, placement.Bounds{Cluster: c.Name, Min: intPtr(c.Min), Max: intPtr(c.Max), Weight: intPtr(c.Weight)})
	}
	if q := p.Quorum; q != nil {
		switch q.Rule {
		case v1alpha1.QuorumNoRegionMajority:
			r.Quorum = placement.Quorum{Rule: placement.NoRegionMajority}
		case v1alpha1.QuorumMajorityIn:
			r.Quorum = placement.Quorum{Rule: placement.MajorityIn, Region: q.Region}
		}
	}
	return r
}

// CurrentAssignment is the ordinal map of a service's status as placement's
// current assignment.
func CurrentAssignment(status *v1alpha1.FederatedStatefulSetStatus) []placement.Range {
	var out []placement.Range
	for _, o := range status.Ordinals {
		out = append(out, placement.Range{Cluster: o.Cluster, Start: int(o.Start), Count: int(o.Count)})
	}
	return out
}

func selector(s *metav1.LabelSelector) *placement.Selector {
	if s == nil {
		return nil
	}
	out := &placement.Selector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, placement.Requirement{
			Key: e.Key, Operator: placement.SelectorOp(e.Operator), Values: e.Values,
		})
	}
	return out
}

func conditionTrue(conds []metav1.Condition, t string) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

func intPtr(p *int32) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}
