package members_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/members"
)

// admin is an admin client of a bed cluster, bypassing the registry.
func admin(t *testing.T, name string) client.Client {
	t.Helper()
	rc, err := bed.RESTConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// namespace creates a namespace in a member for one test.
func namespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := within(t, func(ctx context.Context) error { return c.Create(ctx, ns) }); err != nil {
		t.Fatal(err)
	}
}

// statefulSet is a one-replica StatefulSet; service, when set, becomes its
// LabelService on the object and its pods.
func statefulSet(ns, name, service string) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	if service != "" {
		labels[members.LabelService] = service
	}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:17"}}},
			},
		},
	}
}

func TestMembersBecomeReadyWithCapacity(t *testing.T) {
	for _, name := range memberNames {
		t.Run(name, func(t *testing.T) {
			waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, time.Minute)
			eventually(t, time.Minute, name+" status", func(ctx context.Context) error {
				mc, err := memberCluster(ctx, name)
				if err != nil {
					return err
				}
				st := mc.Status
				switch {
				case hasCondition(mc, v1alpha1.MemberReachable, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded) != nil:
					return hasCondition(mc, v1alpha1.MemberReachable, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded)
				case st.Capacity == nil || st.Capacity.Nodes < 1 || st.Capacity.CPU.IsZero() || st.Capacity.Pods < 1:
					return fmt.Errorf("capacity %+v", st.Capacity)
				case len(st.Capacity.StorageClasses) == 0 || st.Capacity.StorageClasses[0] != testbed.StorageClassName:
					return fmt.Errorf("storage classes %v, want %q first", st.Capacity.StorageClasses, testbed.StorageClassName)
				case st.KubernetesVersion == "" || st.LastProbeTime == nil:
					return fmt.Errorf("version %q, lastProbeTime %v", st.KubernetesVersion, st.LastProbeTime)
				case st.ObservedGeneration != mc.Generation:
					return fmt.Errorf("observedGeneration %d, generation %d", st.ObservedGeneration, mc.Generation)
				case !slices.Contains(mc.Finalizers, members.Finalizer):
					return fmt.Errorf("finalizers %v", mc.Finalizers)
				}
				return nil
			})
			if !registry.Reachable(name) {
				t.Errorf("Reachable(%s) = false", name)
			}
			if c := registry.Capacity(name); c == nil || c.Nodes < 1 {
				t.Errorf("Capacity(%s) = %+v", name, c)
			}
			if v, ok := metricValue(t, "fedstate_members_reachable", name); !ok || v != 1 {
				t.Errorf("fedstate_members_reachable{cluster=%q} = %v (exists %t), want 1", name, v, ok)
			}
		})
	}
	if _, err := registry.Client("nowhere"); !errors.Is(err, members.ErrUnknownMember) {
		t.Errorf("Client(nowhere) error = %v, want ErrUnknownMember", err)
	}
	if registry.Reachable("nowhere") || registry.Capacity("nowhere") != nil {
		t.Error("an unknown member is reachable or has a capacity")
	}
}

func TestClientReadsLabelledObjectsFromTheCache(t *testing.T) {
	const name, ns = "eu-1", "cache-test"
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, time.Minute)
	direct := admin(t, name)
	namespace(t, direct, ns)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}}
	for _, obj := range []client.Object{statefulSet(ns, "db", "db"), statefulSet(ns, "plain", ""), cm} {
		if err := within(t, func(ctx context.Context) error { return direct.Create(ctx, obj) }); err != nil {
			t.Fatal(err)
		}
	}
	mc, err := registry.Client(name)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "labelled StatefulSet in the cache", func(ctx context.Context) error {
		return mc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, &appsv1.StatefulSet{})
	})
	err = within(t, func(ctx context.Context) error {
		return mc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "plain"}, &appsv1.StatefulSet{})
	})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Get of the unlabelled StatefulSet = %v, want NotFound (it is not cached)", err)
	}
	var list appsv1.StatefulSetList
	if err := within(t, func(ctx context.Context) error { return mc.List(ctx, &list, client.InNamespace(ns)) }); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "db" {
		t.Errorf("List of StatefulSets = %d items, want only db", len(list.Items))
	}
	// Kinds the registry does not cache are read from the API server.
	if err := within(t, func(ctx context.Context) error {
		return mc.Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{})
	}); err != nil {
		t.Errorf("Get of an unlabelled ConfigMap through the member client: %v", err)
	}
	// Writes go to the API server.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db", Labels: map[string]string{members.LabelService: "db"}},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "db"}},
	}
	if err := within(t, func(ctx context.Context) error { return mc.Create(ctx, svc) }); err != nil {
		t.Fatalf("create a Service through the member client: %v", err)
	}
	if err := within(t, func(ctx context.Context) error {
		return direct.Get(ctx, client.ObjectKeyFromObject(svc), &corev1.Service{})
	}); err != nil {
		t.Errorf("the Service written through the member client is not in the member: %v", err)
	}
}

func TestEventsDeliverMemberChanges(t *testing.T) {
	const name, ns = "us-1", "events-test"
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, time.Minute)
	direct := admin(t, name)
	namespace(t, direct, ns)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", Labels: map[string]string{members.LabelService: "web"}},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "web"}},
	}
	plain := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain"},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "plain"}},
	}
	key := "*v1.Service " + ns + "/web"
	for _, obj := range []client.Object{plain, svc} {
		if err := within(t, func(ctx context.Context) error { return direct.Create(ctx, obj) }); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "an event for the new Service", func(context.Context) error {
		if seen.count(key) == 0 {
			return errors.New("no event yet")
		}
		return nil
	})
	created := seen.count(key)
	if err := within(t, func(ctx context.Context) error { return direct.Delete(ctx, svc) }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "an event for the deleted Service", func(context.Context) error {
		if seen.count(key) <= created {
			return errors.New("no event yet")
		}
		return nil
	})
	if n := seen.count("*v1.Service " + ns + "/plain"); n != 0 {
		t.Errorf("%d events for a Service without %s", n, members.LabelService)
	}
}

func TestRegistryStartsOnce(t *testing.T) {
	// The shared registry runs under the test manager already.
	if err := registry.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("a second Start = %v, want an error saying it already runs", err)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	bad := testConfig()
	bad.Burst = 0
	_, err := members.New(bad, nil, runtime.NewScheme(), nil)
	if err == nil {
		t.Fatal("New accepted a bad configuration, no hub client, an empty scheme and no recorder")
	}
	for _, want := range []string{"members.burst", "hub client is nil", "event recorder is nil", "MemberCluster", "StatefulSet"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error does not mention %q:\n%v", want, err)
		}
	}
}

func TestSetupWithManagerChecksFields(t *testing.T) {
	// The fields are checked before the manager is used.
	err := (&members.MemberClusterReconciler{}).SetupWithManager(nil)
	if err == nil {
		t.Fatal("SetupWithManager accepted a reconciler without dependencies")
	}
	for _, want := range []string{"Client is nil", "Registry is nil", "Recorder is nil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("SetupWithManager error does not mention %q:\n%v", want, err)
		}
	}
}
