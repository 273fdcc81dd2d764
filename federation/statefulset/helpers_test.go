package statefulset_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// service is a FederatedStatefulSet spread over regions with skew 1.
func service(ns, name string, replicas int32) *v1alpha1.FederatedStatefulSet {
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas: replicas,
			Ports:    []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:15"}}},
				},
				PodManagementPolicy: appsv1.ParallelPodManagement,
			},
			Placement: v1alpha1.Placement{
				SpreadConstraints: []v1alpha1.SpreadConstraint{{TopologyKey: v1alpha1.TopologyRegion, MaxSkew: 1}},
			},
		},
	}
}

// namespace creates a hub namespace for one test.
func namespace(t *testing.T, name string) string {
	t.Helper()
	err := hubc.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return name
}

// eventually polls check every 200 ms until it returns nil or timeout
// passes, then fails the test with the last error.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// consistently checks every 200 ms for d that check keeps returning nil.
func consistently(t *testing.T, d time.Duration, what string, check func() error) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for {
		if err := check(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		select {
		case <-deadline:
			return
		case <-tick.C:
		}
	}
}

func get(t *testing.T, ns, name string) *v1alpha1.FederatedStatefulSet {
	t.Helper()
	var fss v1alpha1.FederatedStatefulSet
	if err := hubc.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &fss); err != nil {
		t.Fatal(err)
	}
	return &fss
}

// census lists, per pod name of the service, the members running it.
func census(ctx context.Context, ns, name string, skip ...string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, c := range slices.Sorted(maps.Keys(members)) {
		if slices.Contains(skip, c) {
			continue
		}
		var pods corev1.PodList
		if err := members[c].List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelService: name}); err != nil {
			return nil, fmt.Errorf("list pods in %s: %w", c, err)
		}
		for _, p := range pods.Items {
			out[p.Name] = append(out[p.Name], c)
		}
	}
	return out, nil
}

// converged checks that the service's status, slices and pods agree: every
// ordinal below replicas runs exactly once, ready, in the cluster the
// ordinal map names, and every member's slice matches its range.
func converged(ctx context.Context, ns, name string, replicas int) error {
	var fss v1alpha1.FederatedStatefulSet
	if err := hubc.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &fss); err != nil {
		return err
	}
	st := fss.Status
	if st.ObservedGeneration != fss.Generation {
		return fmt.Errorf("observedGeneration %d, generation %d", st.ObservedGeneration, fss.Generation)
	}
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ServiceProgressing); c == nil || c.Reason != v1alpha1.ReasonConverged {
		return fmt.Errorf("progressing: %+v; placed: %+v", c, meta.FindStatusCondition(st.Conditions, v1alpha1.ServicePlaced))
	}
	if int(st.ReadyReplicas) != replicas || len(st.Moves) > 0 {
		return fmt.Errorf("ready %d of %d, moves %v", st.ReadyReplicas, replicas, st.Moves)
	}
	where := map[int]string{}
	ranges := map[string]v1alpha1.OrdinalRange{}
	for _, o := range st.Ordinals {
		ranges[o.Cluster] = o
		for k := o.Start; k < o.Start+o.Count; k++ {
			where[int(k)] = o.Cluster
		}
	}
	if len(where) != replicas {
		return fmt.Errorf("ordinal map %v covers %d ordinals, want %d", st.Ordinals, len(where), replicas)
	}
	pods, err := census(ctx, ns, name)
	if err != nil {
		return err
	}
	for k := range replicas {
		pod := fmt.Sprintf("%s-%d", name, k)
		if got := pods[pod]; len(got) != 1 || got[0] != where[k] {
			return fmt.Errorf("pod %s runs in %v, ordinal map says %s", pod, got, where[k])
		}
	}
	if len(pods) != replicas {
		return fmt.Errorf("%d pods, want %d: %v", len(pods), replicas, pods)
	}
	for c, m := range members {
		var sts appsv1.StatefulSet
		err := m.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sts)
		o, placed := ranges[c]
		switch {
		case apierrors.IsNotFound(err) && !placed:
		case err != nil:
			return fmt.Errorf("slice in %s: %w", c, err)
		case !placed:
			return fmt.Errorf("%s keeps a slice outside the ordinal map", c)
		case sts.Spec.Ordinals == nil || sts.Spec.Ordinals.Start != o.Start || *sts.Spec.Replicas != o.Count:
			return fmt.Errorf("slice in %s runs %v x%d, ordinal map says %d x%d", c, sts.Spec.Ordinals, *sts.Spec.Replicas, o.Start, o.Count)
		}
	}
	for _, rs := range st.ReplicaStatuses {
		if !rs.Ready || !strings.HasPrefix(rs.PodIP, "127.") || rs.Cluster != where[int(rs.Ordinal)] {
			return fmt.Errorf("replica status %+v", rs)
		}
	}
	return nil
}

// identityWatch records every moment a pod of the service appears in one
// member while a pod of the same name exists in another: on every pod
// added in a member it asks every other member's API server directly.
type identityWatch struct {
	ns         string
	mu         sync.Mutex
	violations []string
	seen       int
}

func watchIdentities(t *testing.T, ns, name string) *identityWatch {
	t.Helper()
	w := &identityWatch{ns: ns}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for c, m := range members {
		wi, err := m.Watch(ctx, &corev1.PodList{}, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelService: name})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer wi.Stop()
			for ev := range wi.ResultChan() {
				pod, ok := ev.Object.(*corev1.Pod)
				if !ok || ev.Type != watch.Added {
					continue
				}
				w.check(ctx, c, pod.Name)
			}
		}()
	}
	return w
}

func (w *identityWatch) check(ctx context.Context, cluster, pod string) {
	w.mu.Lock()
	w.seen++
	w.mu.Unlock()
	for other, m := range members {
		if other == cluster {
			continue
		}
		gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var p corev1.Pod
		err := m.Get(gctx, client.ObjectKey{Namespace: w.ns, Name: pod}, &p)
		cancel()
		var problem string
		switch {
		case err == nil:
			problem = fmt.Sprintf("%s appeared in %s while it exists in %s (phase %s, deleting %v)", pod, cluster, other, p.Status.Phase, p.DeletionTimestamp != nil)
		case apierrors.IsNotFound(err) || ctx.Err() != nil:
		default:
			problem = fmt.Sprintf("%s appeared in %s; %s could not be asked: %v", pod, cluster, other, err)
		}
		if problem != "" {
			w.mu.Lock()
			w.violations = append(w.violations, problem)
			w.mu.Unlock()
		}
	}
}

// assertNone fails the test if any pod name was seen in two members.
func (w *identityWatch) assertNone(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	sort.Strings(w.violations)
	if len(w.violations) > 0 {
		t.Fatalf("pod names seen in two clusters at once:\n%s", strings.Join(w.violations, "\n"))
	}
	if w.seen == 0 {
		t.Fatal("the identity watch saw no pod appear")
	}
}

func ptr[T any](v T) *T { return &v }

func scale(t *testing.T, ns, name string, n int32) {
	t.Helper()
	fss := get(t, ns, name)
	fss.Spec.Replicas = n
	if err := hubc.Update(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
}

func taint(t *testing.T, cluster string, taints []v1alpha1.Taint) {
	t.Helper()
	var mc v1alpha1.MemberCluster
	if err := hubc.Get(t.Context(), client.ObjectKey{Name: cluster}, &mc); err != nil {
		t.Fatal(err)
	}
	mc.Spec.Taints = taints
	if err := hubc.Update(t.Context(), &mc); err != nil {
		t.Fatal(err)
	}
}

func matchNothing() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"fedstate.io/test": "no-such-cluster"}}
}

func deleteService(t *testing.T, ns, name string) {
	t.Helper()
	if err := hubc.Delete(t.Context(), get(t, ns, name)); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, name+" deleted", func() error { return noSlices(t, ns, name, "") })
}

// noSlices checks that no member but except has a slice object left.
func noSlices(t *testing.T, ns, name, except string) error {
	for c, m := range members {
		if c == except {
			continue
		}
		for _, o := range []client.Object{&appsv1.StatefulSet{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}} {
			if err := m.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, o); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%T %s/%s in %s: %v", o, ns, name, c, err)
			}
		}
	}
	return nil
}

// generations are the slices' StatefulSet generations by member.
type generations map[string]int64

func (g generations) String() string {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(g)) {
		parts = append(parts, fmt.Sprintf("%s=%d", c, g[c]))
	}
	return strings.Join(parts, " ")
}

func (g generations) any() string {
	return slices.Sorted(maps.Keys(g))[0]
}

func sliceGenerations(t *testing.T, ns, name string) generations {
	t.Helper()
	out := generations{}
	for c, m := range members {
		var sts appsv1.StatefulSet
		if err := m.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &sts); err == nil {
			out[c] = sts.Generation
		}
	}
	return out
}

// slicesOutside describes the slices and pods of every member but one.
func slicesOutside(t *testing.T, ns, name, except string) string {
	t.Helper()
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(members)) {
		if c == except {
			continue
		}
		var sts appsv1.StatefulSet
		if err := members[c].Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &sts); err == nil {
			parts = append(parts, fmt.Sprintf("%s: gen %d start %d x%d", c, sts.Generation, sts.Spec.Ordinals.Start, *sts.Spec.Replicas))
		}
	}
	pods, err := census(t.Context(), ns, name, except)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range slices.Sorted(maps.Keys(pods)) {
		parts = append(parts, fmt.Sprintf("%s@%v", p, pods[p]))
	}
	return strings.Join(parts, "; ")
}
