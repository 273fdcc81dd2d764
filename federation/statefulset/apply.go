package statefulset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// appliedKey names one object the hub applied in one member.
type appliedKey struct {
	cluster, kind, namespace, name string
}

// appliedState is what the hub last applied and got back, so that an
// object nobody changed since is not applied again.
type appliedState struct {
	hash            uint64
	generation      int64
	resourceVersion string
}

// apply writes the step's slices to the reachable members: a slice with
// ordinals is applied; a slice left without ordinals is scaled to zero and
// removed once its pods are gone. Unreachable members are left alone.
func (r *Reconciler) apply(ctx context.Context, fss *v1alpha1.FederatedStatefulSet, p *plan) {
	desired := p.step.Desired
	var order []string
	for c, s := range desired {
		if s.Count > 0 {
			order = append(order, c)
		}
	}
	slices.SortFunc(order, func(a, b string) int { return desired[a].Start - desired[b].Start })
	counts := make([]int32, len(order))
	for i, c := range order {
		counts[i] = int32(desired[c].Count)
	}
	shares := map[string]int32{}
	for i, s := range Disruptions(counts) {
		shares[order[i]] = s
	}

	// Members are written in parallel: each write waits on a remote API
	// server, and one member's latency should not add to another's.
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, name := range slices.Sorted(maps.Keys(p.members)) {
		m := p.members[name]
		if !m.reachable() {
			continue
		}
		s := desired[name]
		wg.Go(func() {
			var err error
			switch {
			case s.Count > 0:
				err = r.applySlice(ctx, m, Render(fss, name, int32(s.Start), int32(s.Count), shares[name]))
			case m.sts == nil:
			case len(m.pods) > 0:
				start := int32(stsSpan(m).Start)
				err = r.applySlice(ctx, m, Render(fss, name, start, 0, 0))
			default:
				err = r.deleteSlice(ctx, m, fss)
			}
			if err != nil {
				mu.Lock()
				p.applyErr[name] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// applySlice applies a slice's objects with server-side apply, skipping
// those unchanged since the hub last applied them. The objects to write are
// applied as a dry run first: when the member rejects one (a template the
// hub accepts but the member's API server does not), none is written, so a
// member never holds half a slice.
func (r *Reconciler) applySlice(ctx context.Context, m *member, s Slice) error {
	if err := r.ensureNamespace(ctx, m, s.StatefulSet.Namespace); err != nil {
		return err
	}
	var (
		todo []pendingApply
		errs []error
	)
	for _, o := range []client.Object{s.Service, s.Budget, s.StatefulSet} {
		p, err := r.pending(ctx, m, o)
		if err != nil {
			errs = append(errs, err)
		} else if p != nil {
			todo = append(todo, *p)
		}
	}
	for _, p := range todo {
		errs = append(errs, p.apply(ctx, m, p.obj.DeepCopy(), client.DryRunAll))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, p := range todo {
		if err := p.apply(ctx, m, p.obj); err != nil {
			errs = append(errs, err)
			continue
		}
		r.mu.Lock()
		r.applied[p.key] = appliedState{hash: p.hash, generation: p.obj.GetGeneration(), resourceVersion: p.obj.GetResourceVersion()}
		r.mu.Unlock()
	}
	return errors.Join(errs...)
}

// pendingApply is one object of a slice that needs writing.
type pendingApply struct {
	key  appliedKey
	hash uint64
	obj  *unstructured.Unstructured
}

// apply writes obj (p.obj or a copy) to the member with server-side apply;
// the member's answer is decoded into obj.
func (p pendingApply) apply(ctx context.Context, m *member, obj *unstructured.Unstructured, opts ...client.ApplyOption) error {
	opts = append(opts, client.FieldOwner(FieldManager), client.ForceOwnership)
	if err := m.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), opts...); err != nil {
		return fmt.Errorf("apply %s %s/%s in %s: %w", p.key.kind, p.key.namespace, p.key.name, m.name, err)
	}
	return nil
}

// pending returns o as the object to apply, or nil when the member's copy
// is unchanged since the hub last applied it.
func (r *Reconciler) pending(ctx context.Context, m *member, o client.Object) (*pendingApply, error) {
	kind := o.GetObjectKind().GroupVersionKind().Kind
	key := appliedKey{cluster: m.name, kind: kind, namespace: o.GetNamespace(), name: o.GetName()}
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", kind, o.GetName(), err)
	}
	h := fnv.New64a()
	_, _ = h.Write(raw)
	sum := h.Sum64()

	r.mu.Lock()
	last, seen := r.applied[key]
	r.mu.Unlock()
	if seen && last.hash == sum && r.unchanged(ctx, m, o, last) {
		return nil, nil
	}

	u := map[string]any{}
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", kind, o.GetName(), err)
	}
	delete(u, "status")
	if md, ok := u["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return &pendingApply{key: key, hash: sum, obj: &unstructured.Unstructured{Object: u}}, nil
}

// unchanged reports whether the member's cached copy of o is still what
// the hub last applied: same generation (or an older one, when the cache
// has not caught up) for StatefulSets and budgets, same resource version
// for Services, and the hub's labels in place.
func (r *Reconciler) unchanged(ctx context.Context, m *member, o client.Object, last appliedState) bool {
	var cached client.Object
	switch o.(type) {
	case *appsv1.StatefulSet:
		cached = &appsv1.StatefulSet{}
	case *corev1.Service:
		cached = &corev1.Service{}
	case *policyv1.PodDisruptionBudget:
		cached = &policyv1.PodDisruptionBudget{}
	default:
		return false
	}
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(o), cached); err != nil {
		return false
	}
	for k, v := range o.GetLabels() {
		if cached.GetLabels()[k] != v {
			return false
		}
	}
	if _, svc := o.(*corev1.Service); svc {
		return cached.GetResourceVersion() == last.resourceVersion
	}
	return cached.GetGeneration() <= last.generation
}

// ensureNamespace creates the service's namespace in a member once.
func (r *Reconciler) ensureNamespace(ctx context.Context, m *member, ns string) error {
	key := appliedKey{cluster: m.name, kind: "Namespace", name: ns}
	r.mu.Lock()
	_, done := r.applied[key]
	r.mu.Unlock()
	if done {
		return nil
	}
	err := m.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s in %s: %w", ns, m.name, err)
	}
	r.mu.Lock()
	r.applied[key] = appliedState{}
	r.mu.Unlock()
	return nil
}

// deleteSlice removes a slice's objects from a member; objects already
// gone are fine.
func (r *Reconciler) deleteSlice(ctx context.Context, m *member, fss *v1alpha1.FederatedStatefulSet) error {
	var errs []error
	for _, o := range sliceObjects(fss) {
		err := m.client.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %T %s/%s in %s: %w", o, o.GetNamespace(), o.GetName(), m.name, err))
		}
		r.mu.Lock()
		delete(r.applied, appliedKey{cluster: m.name, kind: kindOf(o), namespace: o.GetNamespace(), name: o.GetName()})
		r.mu.Unlock()
	}
	return errors.Join(errs...)
}

// sliceObjects are empty objects naming a service's slice objects.
func sliceObjects(fss *v1alpha1.FederatedStatefulSet) []client.Object {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: fss.Namespace, Name: name} }
	return []client.Object{
		&appsv1.StatefulSet{ObjectMeta: meta(fss.Name)},
		&corev1.Service{ObjectMeta: meta(ServiceName(fss))},
		&policyv1.PodDisruptionBudget{ObjectMeta: meta(fss.Name)},
	}
}

func kindOf(o runtime.Object) string {
	switch o.(type) {
	case *appsv1.StatefulSet:
		return "StatefulSet"
	case *corev1.Service:
		return "Service"
	case *policyv1.PodDisruptionBudget:
		return "PodDisruptionBudget"
	}
	return ""
}

// appliedGeneration is the generation the hub's last apply of the
// service's StatefulSet in cluster returned, 0 if unknown.
func (r *Reconciler) appliedGeneration(cluster string, fss *v1alpha1.FederatedStatefulSet) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied[appliedKey{cluster: cluster, kind: "StatefulSet", namespace: fss.Namespace, name: fss.Name}].generation
}
