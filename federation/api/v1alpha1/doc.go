// Package v1alpha1 holds the fedstate.io/v1alpha1 API: MemberCluster, a
// Kubernetes cluster that joined the federation, and FederatedStatefulSet, a
// stateful service whose replicas the hub places across member clusters.
//
// The types are plain Go structs with kubebuilder markers; controller-gen
// generates their deep-copy functions (zz_generated.deepcopy.go) and the
// CustomResourceDefinitions under config/crd/bases. Field validation that
// spans several fields is written as CEL rules (x-kubernetes-validations), so
// the API server rejects a bad object with a message naming the field before
// any controller sees it.
//
// +kubebuilder:object:generate=true
// +groupName=fedstate.io
package v1alpha1
