package membership

import (
	rbacv1 "k8s.io/api/rbac/v1"
)

// Names of the objects Join makes. The member-side names are the same in
// every member; the hub Secret is named after the member.
const (
	// Namespace holds the hub's ServiceAccount and token in a member and the
	// members' kubeconfig Secrets in the hub.
	Namespace = "fedstate-system"
	// ServiceAccountName is the identity the hub uses in every member.
	ServiceAccountName = "fedstate-hub"
	// TokenSecretName is the member Secret of type
	// kubernetes.io/service-account-token holding the hub's long-lived token.
	TokenSecretName = "fedstate-hub-token"
	// ClusterRoleName is the member ClusterRole granting the hub exactly
	// Rules, and the name of its ClusterRoleBinding.
	ClusterRoleName = "fedstate:hub"
	// KubeconfigKey is the key of the kubeconfig in the hub Secret.
	KubeconfigKey = "kubeconfig"
	// FieldManager is the field manager of every object Join writes.
	FieldManager = "fedstate-join"
)

// Labels and annotations Join puts on the objects it makes.
const (
	// LabelManagedBy marks every object Join makes, in the member and in the
	// hub, with the value ManagedBy.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "fedstate"
	// LabelMember names the MemberCluster an object belongs to.
	LabelMember = "fedstate.io/member-cluster"
	// AnnotationClusterID on the MemberCluster holds the UID of the member's
	// kube-system namespace, so that a name is never silently moved to
	// another cluster.
	AnnotationClusterID = "fedstate.io/cluster-id"
	// LabelRegion and LabelZone carry the MemberCluster's region and zone,
	// so that placement's cluster selectors can match them.
	LabelRegion = "topology.kubernetes.io/region"
	// LabelZone: see LabelRegion.
	LabelZone = "topology.kubernetes.io/zone"
)

// Permission is one rule of the hub's ClusterRole and why the hub needs it.
type Permission struct {
	// Rule is the RBAC rule.
	Rule rbacv1.PolicyRule
	// Why is one line saying what the hub does with it.
	Why string
}

var (
	readOnly  = []string{"get", "list", "watch"}
	readWrite = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
)

// Permissions lists every rule of the ClusterRole fedstate:hub, with the
// reason for each. There is nothing else: no Secrets, no RBAC objects, no
// creating or deleting pods, no events. The /readyz and /version endpoints
// the hub probes are open to every authenticated user through the default
// ClusterRole system:public-info-viewer.
func Permissions() []Permission {
	return []Permission{
		{
			Rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch", "create"}},
			Why:  "create a service's namespace before its first slice; never update or delete one",
		},
		{
			Rule: rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: readWrite},
			Why:  "apply, scale, move and remove the StatefulSet slices, and read their status",
		},
		{
			Rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: readWrite},
			Why:  "apply and remove each slice's headless Service",
		},
		{
			Rule: rbacv1.PolicyRule{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: readWrite},
			Why:  "apply and remove each slice's PodDisruptionBudget share",
		},
		{
			Rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "persistentvolumeclaims"}, Verbs: readOnly},
			Why:  "report per-replica pod IP and readiness, see when a moved replica is gone, and see its claims",
		},
		{
			Rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: readOnly},
			Why:  "sum allocatable CPU, memory and pods for the member's capacity",
		},
		{
			Rule: rbacv1.PolicyRule{APIGroups: []string{"storage.k8s.io"}, Resources: []string{"storageclasses"}, Verbs: readOnly},
			Why:  "list the member's storage classes and its default for the capacity summary",
		},
	}
}

// Rules are the rules of the ClusterRole fedstate:hub, from Permissions.
func Rules() []rbacv1.PolicyRule {
	ps := Permissions()
	out := make([]rbacv1.PolicyRule, len(ps))
	for i, p := range ps {
		out[i] = p.Rule
	}
	return out
}
