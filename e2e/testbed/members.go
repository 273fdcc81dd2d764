package testbed

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// SecretNamespace is the hub namespace holding the members' kubeconfig
// Secrets.
const SecretNamespace = "fedstate-system"

// RegisterMembers creates, in the hub, a kubeconfig Secret and a
// MemberCluster for every member of the bed, with the member's admin
// credentials (fedctl join mints least-privilege ones instead). It is
// idempotent.
func (b *Bed) RegisterMembers(ctx context.Context, hub client.Client) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: SecretNamespace}}
	if err := hub.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", SecretNamespace, err)
	}
	for _, c := range b.Clusters() {
		if c.Hub {
			continue
		}
		kc, err := os.ReadFile(c.Kubeconfig)
		if err != nil {
			return fmt.Errorf("read kubeconfig of %s: %w", c.Name, err)
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: SecretNamespace, Name: c.Name + "-kubeconfig"},
			Data:       map[string][]byte{"kubeconfig": kc},
		}
		if err := hub.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create kubeconfig Secret of %s: %w", c.Name, err)
		}
		mc := &v1alpha1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: c.Name},
			Spec: v1alpha1.MemberClusterSpec{
				Region: c.Region, Zone: c.Zone,
				KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: SecretNamespace, Name: secret.Name, Key: "kubeconfig"},
			},
		}
		if err := hub.Create(ctx, mc); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create MemberCluster %s: %w", c.Name, err)
		}
	}
	return nil
}
