package members

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// annotationDefaultClass marks the default StorageClass of a cluster.
const annotationDefaultClass = "storageclass.kubernetes.io/is-default-class"

// summarize is the capacity summary of a member: the schedulable nodes
// (Ready, not cordoned, no NoSchedule or NoExecute taint) and their
// allocatable CPU, memory and pods, and the storage classes with the
// default ones first, each group sorted by name.
func summarize(nodes []corev1.Node, classes []storagev1.StorageClass) *v1alpha1.ClusterCapacity {
	c := &v1alpha1.ClusterCapacity{}
	for i := range nodes {
		n := &nodes[i]
		if !schedulable(n) {
			continue
		}
		c.Nodes++
		a := n.Status.Allocatable
		if q, ok := a[corev1.ResourceCPU]; ok {
			c.CPU.Add(q)
		}
		if q, ok := a[corev1.ResourceMemory]; ok {
			c.Memory.Add(q)
		}
		if q, ok := a[corev1.ResourcePods]; ok {
			c.Pods += q.Value()
		}
	}
	var defaults, others []string
	for _, sc := range classes {
		if sc.Annotations[annotationDefaultClass] == "true" {
			defaults = append(defaults, sc.Name)
		} else {
			others = append(others, sc.Name)
		}
	}
	sort.Strings(defaults)
	sort.Strings(others)
	c.StorageClasses = append(defaults, others...)
	return c
}

// schedulable reports whether new pods can land on n.
func schedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// capacityTypes are the kinds the registry caches in every member for the
// capacity summary.
func capacityTypes() []client.Object {
	return []client.Object{&corev1.Node{}, &storagev1.StorageClass{}}
}

// slimNode is the cache transform of Nodes: it keeps only what summarize
// reads, so that a member with thousands of nodes costs the hub a few
// hundred bytes per node. It is idempotent and leaves other objects alone.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	slim := &corev1.Node{
		TypeMeta:   n.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion},
		Spec:       corev1.NodeSpec{Unschedulable: n.Spec.Unschedulable, Taints: n.Spec.Taints},
		Status:     corev1.NodeStatus{Allocatable: n.Status.Allocatable},
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			slim.Status.Conditions = []corev1.NodeCondition{{Type: c.Type, Status: c.Status}}
		}
	}
	return slim, nil
}
