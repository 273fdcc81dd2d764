package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// AnnotationCreatedBy on the member's fedstate-system namespace says that
// Join created it (rather than found it), so that Unjoin may delete it.
const AnnotationCreatedBy = "fedstate.io/created-by"

// clusterID is the UID of a cluster's kube-system namespace: stable for the
// cluster's life and different in every cluster.
func clusterID(ctx context.Context, c client.Client, timeout time.Duration) (string, error) {
	var ns corev1.Namespace
	err := call(ctx, timeout, func(ctx context.Context) error {
		return c.Get(ctx, client.ObjectKey{Name: metav1.NamespaceSystem}, &ns)
	})
	if err != nil {
		return "", fmt.Errorf("get Namespace kube-system: %w", err)
	}
	return string(ns.UID), nil
}

func (j *joiner) clusterID(ctx context.Context) (string, error) {
	id, err := clusterID(ctx, j.member, j.opts.CallTimeout)
	if err != nil {
		return "", fmt.Errorf("member %s: %w", j.res.Server, err)
	}
	return id, nil
}

// namespaceOwner is the MemberCluster name the cluster's fedstate-system
// namespace was joined as; empty when there is no such namespace or label.
func namespaceOwner(ctx context.Context, c client.Client, timeout time.Duration) (string, error) {
	var ns corev1.Namespace
	err := call(ctx, timeout, func(ctx context.Context) error {
		return c.Get(ctx, client.ObjectKey{Name: Namespace}, &ns)
	})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("member: get Namespace %s: %w", Namespace, err)
	}
	return ns.Labels[LabelMember], nil
}

// checkMember fails when the member is already joined under another name.
func (j *joiner) checkMember(ctx context.Context) error {
	other, err := namespaceOwner(ctx, j.member, j.opts.CallTimeout)
	if err != nil {
		return err
	}
	if other != "" && other != j.opts.Name {
		return fmt.Errorf("%w: the member's Namespace %s says it joined as %q; unjoin %q first", ErrJoinedElsewhere, Namespace, other, other)
	}
	return nil
}

// ensureMember makes the namespace, ServiceAccount, ClusterRole, binding
// and token Secret in the member, and returns the token.
func (j *joiner) ensureMember(ctx context.Context) ([]byte, error) {
	labels := memberLabels(j.opts.Name)
	if err := j.waitNamespaceUsable(ctx, j.member, SideMember); err != nil {
		return nil, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if err := j.ensure(ctx, j.member, SideMember, "Namespace", ns, func() error {
		if ns.CreationTimestamp.IsZero() {
			setAnnotation(ns, AnnotationCreatedBy, FieldManager)
		}
		setLabels(ns, labels)
		return nil
	}); err != nil {
		return nil, err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: ServiceAccountName}}
	if err := j.ensure(ctx, j.member, SideMember, "ServiceAccount", sa, func() error {
		setLabels(sa, labels)
		return nil
	}); err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName}}
	if err := j.ensure(ctx, j.member, SideMember, "ClusterRole", role, func() error {
		setLabels(role, labels)
		role.Rules, role.AggregationRule = Rules(), nil
		return nil
	}); err != nil {
		return nil, err
	}
	if err := j.ensureBinding(ctx, labels); err != nil {
		return nil, err
	}
	if err := j.ensureTokenSecret(ctx, labels); err != nil {
		return nil, err
	}
	return j.waitToken(ctx, sa.UID)
}

// waitNamespaceUsable waits until a terminating fedstate-system namespace
// (an unjoin a moment ago) is gone, so that Join can make it again.
func (j *joiner) waitNamespaceUsable(ctx context.Context, c client.Client, side Side) error {
	logged := false
	err := poll(ctx, j.opts.ReadyTimeout, j.opts.CallTimeout, func(ctx context.Context) (bool, error) {
		var ns corev1.Namespace
		err := c.Get(ctx, client.ObjectKey{Name: Namespace}, &ns)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s: get Namespace %s: %w", side, Namespace, err)
		}
		if ns.DeletionTimestamp == nil {
			return true, nil
		}
		if !logged {
			j.log.Info("Waiting for the namespace to finish terminating", "in", string(side), "object", "Namespace "+Namespace)
			logged = true
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("%s: Namespace %s still terminating: %w", side, Namespace, err)
	}
	return nil
}

// ensureBinding binds the ClusterRole to the ServiceAccount. A binding of
// that name with another roleRef (immutable) is replaced.
func (j *joiner) ensureBinding(ctx context.Context, labels map[string]string) error {
	roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ClusterRoleName}
	var old rbacv1.ClusterRoleBinding
	err := call(ctx, j.opts.CallTimeout, func(ctx context.Context) error {
		return j.member.Get(ctx, client.ObjectKey{Name: ClusterRoleName}, &old)
	})
	switch {
	case err == nil && !equality.Semantic.DeepEqual(old.RoleRef, roleRef):
		j.log.Info("Replacing a binding with another role", "in", string(SideMember), "object", "ClusterRoleBinding "+ClusterRoleName, "roleRef", old.RoleRef.Name)
		if err := call(ctx, j.opts.CallTimeout, func(ctx context.Context) error {
			return client.IgnoreNotFound(j.member.Delete(ctx, &old, client.Preconditions{UID: &old.UID}))
		}); err != nil {
			return fmt.Errorf("member: delete ClusterRoleBinding %s with roleRef %s: %w", ClusterRoleName, old.RoleRef.Name, err)
		}
	case err != nil && !apierrors.IsNotFound(err):
		return fmt.Errorf("member: get ClusterRoleBinding %s: %w", ClusterRoleName, err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName}}
	return j.ensure(ctx, j.member, SideMember, "ClusterRoleBinding", crb, func() error {
		setLabels(crb, labels)
		crb.RoleRef = roleRef
		crb.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: Namespace, Name: ServiceAccountName}}
		return nil
	})
}

// ensureTokenSecret makes the Secret the member's token controller fills
// with a long-lived token of the ServiceAccount.
func (j *joiner) ensureTokenSecret(ctx context.Context, labels map[string]string) error {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: TokenSecretName}}
	return j.ensure(ctx, j.member, SideMember, "Secret", sec, func() error {
		if sec.CreationTimestamp.IsZero() {
			sec.Type = corev1.SecretTypeServiceAccountToken
		} else if sec.Type != corev1.SecretTypeServiceAccountToken {
			return fmt.Errorf("exists with type %s, want %s; delete it", sec.Type, corev1.SecretTypeServiceAccountToken)
		}
		setLabels(sec, labels)
		setAnnotation(sec, corev1.ServiceAccountNameKey, ServiceAccountName)
		return nil
	})
}

// waitToken waits until the token controller has filled the token Secret
// for the ServiceAccount with UID saUID, and returns the token. A Secret
// left from an earlier ServiceAccount of the same name is deleted by the
// controller; waitToken then makes it again.
func (j *joiner) waitToken(ctx context.Context, saUID types.UID) ([]byte, error) {
	var token []byte
	last := errors.New("no token yet")
	err := poll(ctx, j.opts.ReadyTimeout, j.opts.CallTimeout, func(ctx context.Context) (bool, error) {
		var sec corev1.Secret
		err := j.member.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: TokenSecretName}, &sec)
		if apierrors.IsNotFound(err) {
			return false, j.ensureTokenSecret(ctx, memberLabels(j.opts.Name))
		}
		if err != nil {
			last = err
			return false, nil // retried until the deadline
		}
		if uid := sec.Annotations[corev1.ServiceAccountUIDKey]; uid != "" && uid != string(saUID) {
			last = fmt.Errorf("the Secret belongs to an earlier ServiceAccount (UID %s)", uid)
			return false, nil
		}
		if len(sec.Data[corev1.ServiceAccountTokenKey]) == 0 {
			return false, nil
		}
		token = sec.Data[corev1.ServiceAccountTokenKey]
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("member: the token controller did not fill Secret %s/%s within %s (does the member's kube-controller-manager run with --service-account-private-key-file?): %w",
			Namespace, TokenSecretName, j.opts.ReadyTimeout, errors.Join(err, last))
	}
	return token, nil
}
