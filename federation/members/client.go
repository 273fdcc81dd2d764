package members

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// watchedTypes are the kinds the registry caches and watches in every
// member, restricted to objects that carry LabelService.
func watchedTypes() []client.Object {
	return []client.Object{&appsv1.StatefulSet{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}, &corev1.Pod{}}
}

// cached reports whether reads of obj (an object or a list) come from the
// member's cache.
func cached(obj any) bool {
	switch obj.(type) {
	case *appsv1.StatefulSet, *appsv1.StatefulSetList,
		*corev1.Service, *corev1.ServiceList,
		*policyv1.PodDisruptionBudget, *policyv1.PodDisruptionBudgetList,
		*corev1.Pod, *corev1.PodList:
		return true
	}
	return false
}

// cacheOptions restricts the member's cache of the watched types to
// objects that carry LabelService (whatever its value), slims the Nodes it
// caches for the capacity summary, and drops managedFields, which nobody
// reads from a cache.
func cacheOptions() (cache.Options, error) {
	req, err := labels.NewRequirement(LabelService, selection.Exists, nil)
	if err != nil {
		return cache.Options{}, fmt.Errorf("label selector %s: %w", LabelService, err)
	}
	sel := labels.NewSelector().Add(*req)
	by := map[client.Object]cache.ByObject{
		&corev1.Node{}:            {Transform: slimNode},
		&storagev1.StorageClass{}: {},
	}
	for _, obj := range watchedTypes() {
		by[obj] = cache.ByObject{Label: sel}
	}
	return cache.Options{ByObject: by, DefaultTransform: cache.TransformStripManagedFields()}, nil
}

// memberClient reads the watched types from the member's cache and does
// everything else against its API server.
type memberClient struct {
	client.Client
	cache client.Reader
}

// Get reads a watched type from the cache, anything else from the API
// server.
func (c *memberClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if cached(obj) {
		return c.cache.Get(ctx, key, obj, opts...)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// List lists a watched type from the cache, anything else from the API
// server.
func (c *memberClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if cached(list) {
		return c.cache.List(ctx, list, opts...)
	}
	return c.Client.List(ctx, list, opts...)
}
