package testbed

// Versions of the test-bed binaries. They match the k8s.io libraries of the
// project's go.mod (v0.36.x) and the etcd Kubernetes 1.36 is tested with.
const (
	// KubernetesVersion is the k8s.io/kubernetes module the control-plane
	// binaries are built from.
	KubernetesVersion = "v1.36.3"
	// StagingVersion is the version of the k8s.io staging modules that
	// KubernetesVersion replaces with local paths in its own go.mod.
	StagingVersion = "v0.36.3"
	// EtcdVersion is the go.etcd.io/etcd/server/v3 module etcd is built
	// from; 3.5.13 or newer is needed for watch progress requests.
	EtcdVersion = "v3.6.8"
	// KwokVersion is the sigs.k8s.io/kwok module the fake-node controller is
	// built from.
	KwokVersion = "v0.8.0"
)

// stagingModules are the k8s.io modules that k8s.io/kubernetes replaces by
// local paths (the replace block of its go.mod, without the samples).
var stagingModules = []string{
	"api", "apiextensions-apiserver", "apimachinery", "apiserver", "cli-runtime",
	"client-go", "cloud-provider", "cluster-bootstrap", "code-generator",
	"component-base", "component-helpers", "controller-manager", "cri-api",
	"cri-client", "cri-streaming", "csi-translation-lib",
	"dynamic-resource-allocation", "endpointslice", "externaljwt", "kms",
	"kube-aggregator", "kube-controller-manager", "kube-proxy", "kube-scheduler",
	"kubectl", "kubelet", "metrics", "mount-utils", "pod-security-admission",
	"sample-apiserver", "streaming",
}

// kubeCommands are the commands built from k8s.io/kubernetes.
var kubeCommands = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"}

// kwokStageFiles are the kwok Stage definitions, inside the kwok module,
// that make fake nodes ready and pods run, complete and go away.
var kwokStageFiles = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}
