package membership_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/membership"
)

// The slice the tests place with the minted credentials, as the hub would:
// StatefulSet shop/db running global ordinal 2 only.
const (
	sliceNamespace = "shop"
	sliceName      = "db"
)

// apply is what the hub's server-side applies look like.
var apply = metav1.ApplyOptions{FieldManager: "fedstate-hub", Force: true}

// checkAllowed does, with only the minted kubeconfig, everything the hub
// does in a member: make a namespace, apply a slice (StatefulSet with
// ordinals.start 2), its headless Service and PodDisruptionBudget, and read
// pods, claims, nodes and storage classes.
func checkAllowed(t *testing.T, member string) {
	cs := clientset(t, mintedConfig(t, member))
	if _, err := cs.CoreV1().Namespaces().Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sliceNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Namespace: %v", err)
	}
	applySlice(t, cs)

	// The member's StatefulSet controller makes pod db-2 (not db-0) and its
	// claim; the hub sees both.
	eventually(t, time.Minute, "pod db-2 and claim data-db-2 listed", func(c context.Context) error {
		pods, err := cs.CoreV1().Pods(sliceNamespace).List(c, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if names := podNames(pods.Items); !slices.Equal(names, []string{"db-2"}) {
			return fmt.Errorf("pods %v, want [db-2]", names)
		}
		_, err = cs.CoreV1().PersistentVolumeClaims(sliceNamespace).Get(c, "data-db-2", metav1.GetOptions{})
		return err
	})
	nodes, err := cs.CoreV1().Nodes().List(ctx(t), metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Errorf("list nodes: %d, %v", len(nodes.Items), err)
	}
	classes, err := cs.StorageV1().StorageClasses().List(ctx(t), metav1.ListOptions{})
	if err != nil || len(classes.Items) == 0 || classes.Items[0].Name != testbed.StorageClassName {
		t.Errorf("list storage classes: %v, %v", classes, err)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("").List(ctx(t), metav1.ListOptions{}); err != nil {
		t.Errorf("list claims in all namespaces: %v", err)
	}
	w, err := cs.CoreV1().Pods("").Watch(ctx(t), metav1.ListOptions{})
	if err != nil {
		t.Errorf("watch pods: %v", err)
	} else {
		w.Stop()
	}
	if _, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx(t)); err != nil {
		t.Errorf("GET /readyz: %v", err)
	}
	updateAndDelete(t, cs)
	checkAccessReviews(t, cs)
}

// applySlice server-side applies the slice's StatefulSet, headless Service
// and PodDisruptionBudget.
func applySlice(t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	labels := map[string]string{"app": sliceName}
	sts := appsv1ac.StatefulSet(sliceName, sliceNamespace).WithSpec(appsv1ac.StatefulSetSpec().
		WithReplicas(1).
		WithOrdinals(appsv1ac.StatefulSetOrdinals().WithStart(2)).
		WithServiceName(sliceName).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(labels)).
		WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(corev1ac.PodSpec().
			WithContainers(corev1ac.Container().WithName("db").WithImage("postgres:17")))).
		WithVolumeClaimTemplates(corev1ac.PersistentVolumeClaim("data", "").WithSpec(corev1ac.PersistentVolumeClaimSpec().
			WithAccessModes(corev1.ReadWriteOnce).
			WithResources(corev1ac.VolumeResourceRequirements().WithRequests(corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")})))))
	if _, err := cs.AppsV1().StatefulSets(sliceNamespace).Apply(ctx(t), sts, apply); err != nil {
		t.Fatalf("apply StatefulSet: %v", err)
	}
	svc := corev1ac.Service(sliceName, sliceNamespace).WithSpec(corev1ac.ServiceSpec().
		WithClusterIP(corev1.ClusterIPNone).WithSelector(labels).
		WithPorts(corev1ac.ServicePort().WithName("pg").WithPort(5432)))
	if _, err := cs.CoreV1().Services(sliceNamespace).Apply(ctx(t), svc, apply); err != nil {
		t.Fatalf("apply Service: %v", err)
	}
	pdb := policyv1ac.PodDisruptionBudget(sliceName, sliceNamespace).WithSpec(policyv1ac.PodDisruptionBudgetSpec().
		WithMaxUnavailable(intstr.FromInt32(1)).WithSelector(metav1ac.LabelSelector().WithMatchLabels(labels)))
	if _, err := cs.PolicyV1().PodDisruptionBudgets(sliceNamespace).Apply(ctx(t), pdb, apply); err != nil {
		t.Fatalf("apply PodDisruptionBudget: %v", err)
	}
}

// updateAndDelete exercises update, patch and delete on a scratch Service
// and the slice's StatefulSet.
func updateAndDelete(t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	svcs := cs.CoreV1().Services(sliceNamespace)
	svc, err := svcs.Create(ctx(t), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "scratch"},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 1}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Service: %v", err)
	}
	svc.Labels = map[string]string{"updated": "true"}
	if _, err := svcs.Update(ctx(t), svc, metav1.UpdateOptions{}); err != nil {
		t.Errorf("update Service: %v", err)
	}
	if err := svcs.Delete(ctx(t), "scratch", metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete Service: %v", err)
	}
	patch := []byte(`{"metadata":{"annotations":{"fedstate.io/test":"patched"}}}`)
	if _, err := cs.AppsV1().StatefulSets(sliceNamespace).Patch(ctx(t), sliceName, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Errorf("patch StatefulSet: %v", err)
	}
}

// checkAccessReviews asks the member's authorizer about every verb of
// every rule of the ClusterRole, as the minted identity.
func checkAccessReviews(t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	for _, p := range membership.Permissions() {
		for _, res := range p.Rule.Resources {
			for _, verb := range p.Rule.Verbs {
				review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
					ResourceAttributes: &authorizationv1.ResourceAttributes{Group: p.Rule.APIGroups[0], Resource: res, Verb: verb},
				}}
				got, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx(t), review, metav1.CreateOptions{})
				if err != nil {
					t.Fatalf("SelfSubjectAccessReview: %v", err)
				}
				if !got.Status.Allowed {
					t.Errorf("%s %s.%s not allowed: %s", verb, res, p.Rule.APIGroups[0], got.Status.Reason)
				}
			}
		}
	}
}

func podNames(pods []corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}
