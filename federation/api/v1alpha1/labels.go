package v1alpha1

// Labels the hub puts on the objects it writes in member clusters.
const (
	// LabelService names the FederatedStatefulSet that owns an object in a
	// member cluster. Every object the hub writes in a member (StatefulSet
	// slice, headless Service, PodDisruptionBudget, and through the pod
	// template every Pod) carries it, in the same namespace as the
	// FederatedStatefulSet. The member registry caches and watches only
	// objects that carry it.
	LabelService = "fedstate.io/service"
	// LabelCluster names the member cluster a slice was rendered for.
	LabelCluster = "fedstate.io/cluster"
	// LabelManagedBy marks objects written by the hub.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByHub is LabelManagedBy's value on the hub's objects.
	ManagedByHub = "fedstate-hub"
)
