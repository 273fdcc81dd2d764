package membership_test

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/membership"
)

// checkForbidden tries, with only the minted kubeconfig, what the hub must
// never be able to do in a member: every attempt must fail with Forbidden.
func checkForbidden(t *testing.T, member string) {
	cs := clientset(t, mintedConfig(t, member))
	node := member + "-node-0"
	tries := []struct {
		name string
		do   func(context.Context) error
	}{
		{"list Secrets in kube-system", func(c context.Context) error {
			_, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).List(c, metav1.ListOptions{})
			return err
		}},
		{"get a Secret in kube-system", func(c context.Context) error {
			_, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Get(c, "any", metav1.GetOptions{})
			return err
		}},
		{"list Secrets in fedstate-system", func(c context.Context) error {
			_, err := cs.CoreV1().Secrets(membership.Namespace).List(c, metav1.ListOptions{})
			return err
		}},
		{"get its own token Secret", func(c context.Context) error {
			_, err := cs.CoreV1().Secrets(membership.Namespace).Get(c, membership.TokenSecretName, metav1.GetOptions{})
			return err
		}},
		{"list Secrets in every namespace", func(c context.Context) error {
			_, err := cs.CoreV1().Secrets("").List(c, metav1.ListOptions{})
			return err
		}},
		{"create a Pod", func(c context.Context) error {
			_, err := cs.CoreV1().Pods(sliceNamespace).Create(c, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "intruder"},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"delete a Pod", func(c context.Context) error {
			return cs.CoreV1().Pods(sliceNamespace).Delete(c, "db-2", metav1.DeleteOptions{})
		}},
		{"delete a Node", func(c context.Context) error {
			return cs.CoreV1().Nodes().Delete(c, node, metav1.DeleteOptions{})
		}},
		{"create a ClusterRole", func(c context.Context) error {
			_, err := cs.RbacV1().ClusterRoles().Create(c, &rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: "intruder"},
				Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"escalate through a RoleBinding to cluster-admin", func(c context.Context) error {
			_, err := cs.RbacV1().RoleBindings(sliceNamespace).Create(c, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "intruder"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: membership.Namespace, Name: membership.ServiceAccountName}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"read its own ClusterRole", func(c context.Context) error {
			_, err := cs.RbacV1().ClusterRoles().Get(c, membership.ClusterRoleName, metav1.GetOptions{})
			return err
		}},
		{"delete a Namespace", func(c context.Context) error {
			return cs.CoreV1().Namespaces().Delete(c, sliceNamespace, metav1.DeleteOptions{})
		}},
		{"mint itself another token", func(c context.Context) error {
			_, err := cs.CoreV1().ServiceAccounts(membership.Namespace).CreateToken(c, membership.ServiceAccountName,
				&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{}}, metav1.CreateOptions{})
			return err
		}},
		{"read ConfigMaps", func(c context.Context) error {
			_, err := cs.CoreV1().ConfigMaps(metav1.NamespaceSystem).List(c, metav1.ListOptions{})
			return err
		}},
		{"create Events", func(c context.Context) error {
			_, err := cs.CoreV1().Events(sliceNamespace).Create(c, &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: "intruder"},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: sliceNamespace, Name: "db-2"},
			}, metav1.CreateOptions{})
			return err
		}},
	}
	for _, try := range tries {
		if err := try.do(ctx(t)); !apierrors.IsForbidden(err) {
			t.Errorf("%s: got %v, want Forbidden", try.name, err)
		}
	}
}
