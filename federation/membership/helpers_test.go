package membership_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/membership"
)

// callTimeout bounds every API call a test makes itself.
const callTimeout = 30 * time.Second

// logged is the test's context with a logger that writes Join's and
// Unjoin's progress to the test log.
func logged(t *testing.T) context.Context {
	t.Helper()
	return logr.NewContext(t.Context(), testr.New(t))
}

// ctx is the test's context with a deadline for one call.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return c
}

// adminConfig is the admin configuration of a test-bed cluster.
func adminConfig(t *testing.T, cluster string) *rest.Config {
	t.Helper()
	cfg, err := bed.RESTConfig(cluster)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// clientset builds a typed client for cfg.
func clientset(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// hubKubeconfig reads the kubeconfig Join stored in the hub for member.
func hubKubeconfig(t *testing.T, member string) []byte {
	t.Helper()
	var sec corev1.Secret
	if err := hub.Get(ctx(t), client.ObjectKey{Namespace: membership.Namespace, Name: membership.SecretName(member)}, &sec); err != nil {
		t.Fatalf("get the hub's kubeconfig Secret of %s: %v", member, err)
	}
	kc := sec.Data[membership.KubeconfigKey]
	if len(kc) == 0 {
		t.Fatalf("Secret %s/%s has no %q key", sec.Namespace, sec.Name, membership.KubeconfigKey)
	}
	return kc
}

// mintedConfig is the REST configuration of the kubeconfig Join stored in
// the hub for member: the hub's credentials, nothing else.
func mintedConfig(t *testing.T, member string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(hubKubeconfig(t, member))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// eventually polls check until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, check func(context.Context) error) {
	t.Helper()
	last := errors.New("never checked")
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, func(c context.Context) (bool, error) {
		c, cancel := context.WithTimeout(c, callTimeout)
		defer cancel()
		last = check(c)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %s: %v", what, timeout, last)
	}
}

// mustClient builds a controller-runtime client of cfg for the core types.
func mustClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
