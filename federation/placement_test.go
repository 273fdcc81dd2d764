package federation

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/placement"
)

func TestPlacementConversion(t *testing.T) {
	two, three, one := int32(2), int32(3), int32(1)
	spec := &v1alpha1.FederatedStatefulSetSpec{
		Replicas: 5,
		Placement: v1alpha1.Placement{
			ClusterSelector: &metav1.LabelSelector{
				MatchLabels:      map[string]string{"tier": "gold"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"dev"}}},
			},
			Tolerations:       []v1alpha1.Toleration{{Key: "maintenance", Operator: v1alpha1.TolerationExists, Effect: v1alpha1.TaintNoSchedule}},
			SpreadConstraints: []v1alpha1.SpreadConstraint{{TopologyKey: v1alpha1.TopologyRegion, MaxSkew: 1, MinDomains: &three, WhenUnsatisfiable: v1alpha1.ScheduleAnyway}},
			Clusters:          []v1alpha1.ClusterPreference{{Name: "eu-1", Min: &one, Max: &three, Weight: &two}},
			PrimaryRegions:    []string{"eu-west"},
			Quorum:            &v1alpha1.Quorum{Rule: v1alpha1.QuorumMajorityIn, Region: "eu-west"},
		},
	}
	want := placement.Request{
		Replicas: 5,
		Selector: &placement.Selector{
			MatchLabels:      map[string]string{"tier": "gold"},
			MatchExpressions: []placement.Requirement{{Key: "env", Operator: placement.NotIn, Values: []string{"dev"}}},
		},
		Tolerations:    []placement.Toleration{{Key: "maintenance", Operator: placement.Exists, Effect: placement.NoSchedule}},
		Spread:         []placement.Spread{{Topology: placement.ByRegion, MaxSkew: 1, MinDomains: 3, Soft: true}},
		Bounds:         []placement.Bounds{{Cluster: "eu-1", Min: ptr(1), Max: ptr(3), Weight: ptr(2)}},
		PrimaryRegions: []string{"eu-west"},
		Quorum:         placement.Quorum{Rule: placement.MajorityIn, Region: "eu-west"},
	}
	if got := PlacementRequest(spec); !reflect.DeepEqual(got, want) {
		t.Errorf("PlacementRequest:\n got %+v\nwant %+v", got, want)
	}

	mc := &v1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "eu-1", Labels: map[string]string{"tier": "gold"}},
		Spec: v1alpha1.MemberClusterSpec{Region: "eu-west", Zone: "eu-west-a",
			Taints: []v1alpha1.Taint{{Key: "maintenance", Effect: v1alpha1.TaintNoExecute}}},
		Status: v1alpha1.MemberClusterStatus{Conditions: []metav1.Condition{{Type: v1alpha1.MemberReady, Status: metav1.ConditionTrue}}},
	}
	got := PlacementCluster(mc, ptr(4))
	wantC := placement.Cluster{Name: "eu-1", Region: "eu-west", Zone: "eu-west-a", Labels: map[string]string{"tier": "gold"},
		Taints: []placement.Taint{{Key: "maintenance", Effect: placement.NoExecute}}, Healthy: true, Capacity: ptr(4)}
	if !reflect.DeepEqual(got, wantC) {
		t.Errorf("PlacementCluster:\n got %+v\nwant %+v", got, wantC)
	}
	mc.Status.Conditions[0].Status = metav1.ConditionUnknown
	if PlacementCluster(mc, nil).Healthy {
		t.Error("a member whose Ready condition is Unknown counts as healthy")
	}

	status := &v1alpha1.FederatedStatefulSetStatus{Ordinals: []v1alpha1.OrdinalRange{{Cluster: "eu-1", Start: 0, Count: 2}, {Cluster: "us-1", Start: 2, Count: 3}}}
	if got := CurrentAssignment(status); !reflect.DeepEqual(got, []placement.Range{{Cluster: "eu-1", Start: 0, Count: 2}, {Cluster: "us-1", Start: 2, Count: 3}}) {
		t.Errorf("CurrentAssignment = %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }
