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

// AnnotationReplication is on the StatefulSet slice of a service in
// PrimaryReplica mode: how its primary must replicate, for the member's
// agent, which configures a primary in its cluster from it. The value is
// "syncReplicas=<n>,syncScope=<Any|SameRegion|OtherRegion>".
const AnnotationReplication = "fedstate.io/replication"

// Annotations an operator (fedctl switchover, fedctl failover) sets on a
// FederatedStatefulSet in PrimaryReplica mode to ask the hub's failover
// coordinator for a change of primary. The value is a comma-separated list
// of key=value fields; id is required and names the request: the hub acts
// on each id once, records it in status.requests and reports the outcome
// there and in events. Setting the annotation again with a new id makes a
// new request.
const (
	// AnnotationSwitchover asks for a planned switchover without data
	// loss: "id=<id>,to=<target>", where target is a replica
	// ("db-2"), a member cluster or a region, tried in that order; the
	// best replica there becomes the primary. to may be left out: the
	// best replica anywhere.
	AnnotationSwitchover = "fedstate.io/switchover-to"
	// AnnotationFailover asks to promote a replica while the primary is
	// lost: "id=<id>[,to=<replica>][,acceptDataLoss=true]". Without to,
	// the best replica; acceptDataLoss allows a replica beyond the RPO
	// budget. The hub refuses while the primary holds its lease.
	AnnotationFailover = "fedstate.io/failover"
)
