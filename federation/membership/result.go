package membership

import "fmt"

// Side says which cluster an object lives in.
type Side string

// The two sides of a membership.
const (
	// SideMember is the member cluster.
	SideMember Side = "member"
	// SideHub is the hub cluster.
	SideHub Side = "hub"
)

// ObjectRef names one object in the member or the hub.
type ObjectRef struct {
	// Side is the cluster the object lives in.
	Side Side
	// Kind of the object, for example "ClusterRole".
	Kind string
	// Namespace of the object; empty for cluster-scoped objects.
	Namespace string
	// Name of the object.
	Name string
}

// String is "Kind name" or "Kind namespace/name".
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name)
}

// Operation says what Join did to an object.
type Operation string

// What Join does to each object.
const (
	// Created: the object did not exist.
	Created Operation = "created"
	// Updated: the object existed and some field Join owns differed.
	Updated Operation = "updated"
	// Unchanged: the object was already as Join wants it.
	Unchanged Operation = "unchanged"
)

// ObjectResult is one object Join made sure of and what it did to it.
type ObjectResult struct {
	ObjectRef
	// Operation is what Join did.
	Operation Operation
}

// Result is what Join did.
type Result struct {
	// Name of the MemberCluster.
	Name string
	// Server is the member API server URL stored in the hub's kubeconfig.
	Server string
	// ClusterID is the UID of the member's kube-system namespace, recorded
	// in the MemberCluster's annotation fedstate.io/cluster-id.
	ClusterID string
	// Objects lists every object Join made sure of, member side first, in
	// the order it did so.
	Objects []ObjectResult
}

// Changed reports whether Join created or updated anything.
func (r Result) Changed() bool {
	for _, o := range r.Objects {
		if o.Operation != Unchanged {
			return true
		}
	}
	return false
}

// Leftover is an object Unjoin did not delete, and why.
type Leftover struct {
	ObjectRef
	// Reason says why the object is still there and, where it matters,
	// what removing it by hand involves.
	Reason string
}

// Report is what Unjoin did and did not do.
type Report struct {
	// Name of the MemberCluster.
	Name string
	// Uses are the FederatedStatefulSets that still named the cluster when
	// it was removed (only with force; otherwise Unjoin refuses).
	Uses []Use
	// Deleted lists the objects Unjoin deleted, hub side first.
	Deleted []ObjectRef
	// LeftBehind lists the objects that stay: workloads in the member,
	// which Unjoin never deletes, and whatever it could not or would not
	// remove.
	LeftBehind []Leftover
	// MemberCleaned is true when the member-side namespace, ServiceAccount,
	// token and RBAC objects are gone (or were never there).
	MemberCleaned bool
}
