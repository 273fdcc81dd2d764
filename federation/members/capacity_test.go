package members

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSummarize(t *testing.T) {
	node := func(name string, ready bool, f func(*corev1.Node)) corev1.Node {
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		n := corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}},
				Allocatable: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("1500m"), corev1.ResourceMemory: resource.MustParse("2Gi"), corev1.ResourcePods: resource.MustParse("10"),
				},
			},
		}
		if f != nil {
			f(&n)
		}
		return n
	}
	class := func(name string, isDefault bool) storagev1.StorageClass {
		sc := storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if isDefault {
			sc.Annotations = map[string]string{annotationDefaultClass: "true"}
		}
		return sc
	}
	nodes := []corev1.Node{
		node("a", true, nil),
		node("b", true, nil),
		node("not-ready", false, nil),
		node("cordoned", true, func(n *corev1.Node) { n.Spec.Unschedulable = true }),
		node("control-plane", true, func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
		}),
		node("prefer", true, func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule}}
		}),
		node("no-conditions", true, func(n *corev1.Node) { n.Status.Conditions = nil }),
	}
	got := summarize(nodes, []storagev1.StorageClass{class("zeta", false), class("fast", false), class("standard", true)})
	if got.Nodes != 3 {
		t.Errorf("Nodes = %d, want 3 (a, b, prefer)", got.Nodes)
	}
	if want := resource.MustParse("4500m"); got.CPU.Cmp(want) != 0 {
		t.Errorf("CPU = %s, want %s", got.CPU.String(), want.String())
	}
	if want := resource.MustParse("6Gi"); got.Memory.Cmp(want) != 0 {
		t.Errorf("Memory = %s, want %s", got.Memory.String(), want.String())
	}
	if got.Pods != 30 {
		t.Errorf("Pods = %d, want 30", got.Pods)
	}
	if want := []string{"standard", "fast", "zeta"}; !slices.Equal(got.StorageClasses, want) {
		t.Errorf("StorageClasses = %v, want %v", got.StorageClasses, want)
	}
	if empty := summarize(nil, nil); empty.Nodes != 0 || !empty.CPU.IsZero() || len(empty.StorageClasses) != 0 {
		t.Errorf("summarize(nil, nil) = %+v, want zero", empty)
	}
}

func TestSlimNodeKeepsTheSummary(t *testing.T) {
	full := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "7", Labels: map[string]string{"a": "b"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}},
		Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24", Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule}}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourcePods: resource.MustParse("5")},
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Message: "kubelet is posting ready status"},
			},
			Images: []corev1.ContainerImage{{Names: []string{"postgres:17"}, SizeBytes: 1 << 28}},
		},
	}
	once, err := slimNode(full.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	twice, err := slimNode(once)
	if err != nil {
		t.Fatal(err)
	}
	slim := *once.(*corev1.Node)
	if !equality.Semantic.DeepEqual(slim, *twice.(*corev1.Node)) {
		t.Error("slimNode is not idempotent")
	}
	if len(slim.Status.Images) != 0 || slim.Labels != nil || slim.ManagedFields != nil || slim.Status.Capacity != nil {
		t.Errorf("slimNode kept fields summarize does not read: %+v", slim)
	}
	if slim.Name != "n" || slim.ResourceVersion != "7" {
		t.Errorf("slimNode dropped the name or resource version: %+v", slim.ObjectMeta)
	}
	a, b := summarize([]corev1.Node{full}, nil), summarize([]corev1.Node{slim}, nil)
	if !equality.Semantic.DeepEqual(a, b) {
		t.Errorf("summary of the slim node %+v, of the full node %+v", b, a)
	}
	if other, _ := slimNode("not a node"); other != "not a node" {
		t.Errorf("slimNode changed a non-Node: %v", other)
	}
}
