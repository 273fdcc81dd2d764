// Package membership joins Kubernetes clusters to a fedstate federation and
// removes them again.
//
// Join prepares a member cluster for the hub and registers it there: in the
// member it makes the namespace fedstate-system, the ServiceAccount
// fedstate-hub, the least-privilege ClusterRole fedstate:hub (see Rules) with
// its binding and a long-lived token; in the hub it stores a kubeconfig with
// that token (and nothing of the caller's own credentials) in the Secret
// fedstate-system/<name>-kubeconfig and creates or updates the MemberCluster.
// Join converges: running it again changes only what differs and never makes
// a second token or MemberCluster.
//
//	res, err := membership.Join(ctx, hub, memberAdmin, membership.Options{Name: "eu-1", Region: "eu-west"})
//
// Unjoin removes a member: it refuses (ErrInUse) while a FederatedStatefulSet
// still names the cluster in its placement or its ordinal map, unless forced;
// then it deletes the MemberCluster and the kubeconfig Secret from the hub and,
// when given the member's admin configuration, the member-side namespace,
// ServiceAccount, token and RBAC objects. Its Report lists exactly what stays
// behind. Workloads in the member are never deleted by Unjoin.
//
// Both functions take the hub as a controller-runtime client whose scheme
// knows the core Kubernetes types and fedstate.io/v1alpha1, and the member as
// a REST configuration with rights to create namespaces, ServiceAccounts,
// Secrets and RBAC objects (cluster-admin, in practice). Every API call has a
// deadline. Progress goes to the logr.Logger in the context, if any.
package membership
