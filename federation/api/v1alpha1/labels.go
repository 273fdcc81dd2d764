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
)
