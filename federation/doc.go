// Package federation holds the hub's view of the federation: the
// fedstate.io API types (in api/v1alpha1) and the adapters between them and
// the pure cores. Today it converts MemberClusters and FederatedStatefulSets
// into the inputs of the placement engine; the member-cluster registry and
// the controllers will live here too.
package federation
