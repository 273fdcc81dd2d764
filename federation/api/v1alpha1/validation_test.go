package v1alpha1_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// validService is a FederatedStatefulSet the API server must accept.
func validService(name string) *v1alpha1.FederatedStatefulSet {
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas: 5,
			Ports:    []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:15"}}},
			}},
			Placement: v1alpha1.Placement{
				SpreadConstraints: []v1alpha1.SpreadConstraint{{TopologyKey: v1alpha1.TopologyRegion, MaxSkew: 1}},
				Clusters:          []v1alpha1.ClusterPreference{{Name: "eu-1", Min: ptr(int32(1)), Max: ptr(int32(3))}},
				PrimaryRegions:    []string{"eu-west"},
				Quorum:            &v1alpha1.Quorum{Rule: v1alpha1.QuorumNoRegionMajority},
			},
			Replication: &v1alpha1.Replication{
				Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL,
				SyncReplicas: 1, SyncReplicaScope: v1alpha1.SyncOtherRegion,
			},
			Failover: &v1alpha1.Failover{Mode: v1alpha1.FailoverAutomatic},
		},
	}
}

func TestValidFederatedStatefulSetIsAcceptedAndDefaulted(t *testing.T) {
	fss := validService("valid")
	if err := hub.Create(t.Context(), fss); err != nil {
		t.Fatalf("create valid service: %v", err)
	}
	t.Cleanup(func() { _ = hub.Delete(t.Context(), fss) })
	var got v1alpha1.FederatedStatefulSet
	if err := hub.Get(t.Context(), client.ObjectKeyFromObject(fss), &got); err != nil {
		t.Fatal(err)
	}
	if p := got.Spec.Ports[0].Protocol; p != corev1.ProtocolTCP {
		t.Errorf("port protocol defaulted to %q, want TCP", p)
	}
	if m := got.Spec.Placement.MaxConcurrentMoves; m != 1 {
		t.Errorf("maxConcurrentMoves defaulted to %d, want 1", m)
	}
	if g := got.Spec.Failover.DetectionGracePeriod; g == nil || g.Duration != 0 {
		t.Errorf("failover.detectionGracePeriod defaulted to %v, want 0s", g)
	}
	if w := got.Spec.Placement.SpreadConstraints[0].WhenUnsatisfiable; w != v1alpha1.DoNotSchedule {
		t.Errorf("whenUnsatisfiable defaulted to %q, want DoNotSchedule", w)
	}
}

func TestInvalidFederatedStatefulSetIsRejectedNamingTheField(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*v1alpha1.FederatedStatefulSetSpec)
		// field and message must both appear in the API server's error.
		field, message string
	}{
		{
			name:   "negative replicas",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Replicas, s.Replication.SyncReplicas = -1, 0 },
			field:  "spec.replicas", message: "greater than or equal to 0",
		},
		{
			name:   "maxSkew zero",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Placement.SpreadConstraints[0].MaxSkew = 0 },
			field:  "spec.placement.spreadConstraints[0].maxSkew", message: "greater than or equal to 1",
		},
		{
			name: "per-cluster min above max",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) {
				s.Placement.Clusters[0].Min, s.Placement.Clusters[0].Max = ptr(int32(4)), ptr(int32(2))
			},
			field: "spec.placement.clusters[0].min", message: "min must be less than or equal to max",
		},
		{
			name:   "unknown replication mode",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Replication.Mode = "MultiMaster" },
			field:  "spec.replication.mode", message: `Unsupported value: "MultiMaster"`,
		},
		{
			name:   "sync replicas equal to replicas",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Replication.SyncReplicas = 5 },
			field:  "spec.replication.syncReplicas", message: "syncReplicas must be less than replicas",
		},
		{
			name:   "sync replicas above replicas",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Replicas, s.Replication.SyncReplicas = 2, 3 },
			field:  "spec.replication.syncReplicas", message: "syncReplicas must be less than replicas",
		},
		{
			name:   "primary-replica mode without a driver",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Replication.Driver = "" },
			field:  "spec.replication.driver", message: "driver is required with mode PrimaryReplica",
		},
		{
			name: "sync replicas without primary-replica mode",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) {
				s.Replication.Mode, s.Replication.Driver = v1alpha1.ReplicationNative, ""
			},
			field: "spec.replication.syncReplicas", message: "syncReplicas needs mode PrimaryReplica",
		},
		{
			name: "MajorityIn quorum without a region",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) {
				s.Placement.Quorum = &v1alpha1.Quorum{Rule: v1alpha1.QuorumMajorityIn}
			},
			field: "spec.placement.quorum.region", message: "region is required with rule MajorityIn",
		},
		{
			name:   "unknown spread topology",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Placement.SpreadConstraints[0].TopologyKey = "rack" },
			field:  "spec.placement.spreadConstraints[0].topologyKey", message: `Unsupported value: "rack"`,
		},
		{
			name: "cluster named twice",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) {
				s.Placement.Clusters = append(s.Placement.Clusters, v1alpha1.ClusterPreference{Name: "eu-1"})
			},
			field: "spec.placement.clusters[1]", message: "Duplicate value",
		},
		{
			name:   "port out of range",
			mutate: func(s *v1alpha1.FederatedStatefulSetSpec) { s.Ports[0].Port = 70000 },
			field:  "spec.ports[0].port", message: "less than or equal to 65535",
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fss := validService(fmt.Sprintf("invalid-%d", i))
			tc.mutate(&fss.Spec)
			err := hub.Create(t.Context(), fss)
			if err == nil {
				_ = hub.Delete(t.Context(), fss)
				t.Fatal("the API server accepted an invalid service")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			t.Logf("rejected: %v", err)
			if msg := err.Error(); !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.message) {
				t.Errorf("error does not name %s with %q:\n%s", tc.field, tc.message, msg)
			}
		})
	}
}

func TestMemberClusterValidation(t *testing.T) {
	valid := func(name string) *v1alpha1.MemberCluster {
		return &v1alpha1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.MemberClusterSpec{
				Region: "eu-west", Zone: "eu-west-a",
				Taints:              []v1alpha1.Taint{{Key: "fedstate.io/maintenance", Effect: v1alpha1.TaintNoSchedule}},
				KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: "fedstate-system", Name: "eu-1-kubeconfig"},
			},
		}
	}
	ok := valid("eu-1")
	if err := hub.Create(t.Context(), ok); err != nil {
		t.Fatalf("create valid MemberCluster: %v", err)
	}
	t.Cleanup(func() { _ = hub.Delete(t.Context(), ok) })
	var got v1alpha1.MemberCluster
	if err := hub.Get(t.Context(), client.ObjectKeyFromObject(ok), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.KubeconfigSecretRef.Key != "kubeconfig" {
		t.Errorf("kubeconfigSecretRef.key defaulted to %q, want kubeconfig", got.Spec.KubeconfigSecretRef.Key)
	}

	cases := []struct {
		name           string
		mutate         func(*v1alpha1.MemberClusterSpec)
		field, message string
	}{
		{"missing region", func(s *v1alpha1.MemberClusterSpec) { s.Region = "" }, "spec.region", "at least 1 chars long"},
		{"unknown taint effect", func(s *v1alpha1.MemberClusterSpec) { s.Taints[0].Effect = "PreferNoSchedule" }, "spec.taints[0].effect", "Unsupported value"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mc := valid(fmt.Sprintf("bad-%d", i))
			tc.mutate(&mc.Spec)
			err := hub.Create(t.Context(), mc)
			if err == nil {
				_ = hub.Delete(t.Context(), mc)
				t.Fatal("the API server accepted an invalid MemberCluster")
			}
			if msg := err.Error(); !apierrors.IsInvalid(err) || !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.message) {
				t.Errorf("want an Invalid error naming %s with %q, got:\n%s", tc.field, tc.message, msg)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
