package membership_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/membership"
)

// checkRotate: deleting the member's ServiceAccount revokes the token, and
// joining again mints a new one and updates the hub's kubeconfig. (Deleting
// only the token Secret revokes it too, but a Secret of the same name for
// the same ServiceAccount gets the very same token back: a legacy token's
// claims hold no time and no Secret UID.)
func checkRotate(t *testing.T, name string, opts membership.Options) {
	old := clientset(t, mintedConfig(t, name))
	oldKubeconfig := hubKubeconfig(t, name)
	err := clientset(t, adminConfig(t, name)).CoreV1().ServiceAccounts(membership.Namespace).Delete(ctx(t), membership.ServiceAccountName, metav1.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the old token rejected", func(c context.Context) error {
		if _, err := old.CoreV1().Nodes().List(c, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
			return fmt.Errorf("list nodes with the deleted token: %v", err)
		}
		return nil
	})
	res, err := membership.Join(logged(t), hub, adminConfig(t, name), opts)
	if err != nil {
		t.Fatalf("Join after deleting the ServiceAccount: %v", err)
	}
	ops := map[string]membership.Operation{}
	for _, o := range res.Objects {
		ops[string(o.Side)+" "+o.Kind] = o.Operation
	}
	if ops["member ServiceAccount"] != membership.Created || ops["hub Secret"] != membership.Updated {
		t.Errorf("rotation: %+v, want the ServiceAccount created and the hub Secret updated", res.Objects)
	}
	if bytes.Equal(hubKubeconfig(t, name), oldKubeconfig) {
		t.Fatal("the hub's kubeconfig still holds the old token")
	}
	if _, err := clientset(t, mintedConfig(t, name)).CoreV1().Pods(corev1.NamespaceAll).List(ctx(t), metav1.ListOptions{}); err != nil {
		t.Errorf("list pods with the new token: %v", err)
	}
	if _, err := old.CoreV1().Nodes().List(ctx(t), metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("list nodes with the old token after the rotation: %v, want Unauthorized", err)
	}
}
