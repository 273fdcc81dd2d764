package membership

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// deleted records and logs a deleted object.
func (u *unjoiner) deleted(ref ObjectRef) {
	u.rep.Deleted = append(u.rep.Deleted, ref)
	u.log.Info("Deleted", "in", string(ref.Side), "object", ref.String())
}

// left records and logs an object left behind.
func (u *unjoiner) left(ref ObjectRef, reason string) {
	u.rep.LeftBehind = append(u.rep.LeftBehind, Leftover{ObjectRef: ref, Reason: reason})
	u.log.Info("Left behind", "in", string(ref.Side), "object", ref.String(), "reason", reason)
}

// deleteHub deletes the MemberCluster, then its kubeconfig Secret.
func (u *unjoiner) deleteHub(ctx context.Context, mc *v1alpha1.MemberCluster) error {
	secret := ObjectRef{Side: SideHub, Kind: "Secret", Namespace: Namespace, Name: SecretName(u.name)}
	if mc != nil {
		ref := ObjectRef{Side: SideHub, Kind: "MemberCluster", Name: u.name}
		if err := call(ctx, u.timeout, func(ctx context.Context) error {
			return client.IgnoreNotFound(u.hub.Delete(ctx, mc, client.Preconditions{UID: &mc.UID}))
		}); err != nil {
			return hubError("delete MemberCluster "+u.name, err)
		}
		var still v1alpha1.MemberCluster
		err := call(ctx, u.timeout, func(ctx context.Context) error {
			return u.hub.Get(ctx, client.ObjectKeyFromObject(mc), &still)
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return hubError("get MemberCluster "+u.name, err)
		}
		if err == nil && still.UID == mc.UID {
			u.left(ref, fmt.Sprintf("terminating until its finalizers %v finish", still.Finalizers))
			u.left(secret, "kept while the MemberCluster terminates: its finalizers may need it; run unjoin again once it is gone")
			return nil
		}
		u.deleted(ref)
		if r := mc.Spec.KubeconfigSecretRef; r.Namespace != Namespace || r.Name != SecretName(u.name) {
			u.left(ObjectRef{Side: SideHub, Kind: "Secret", Namespace: r.Namespace, Name: r.Name},
				"the MemberCluster's kubeconfig Secret was not made by join; delete it by hand if nothing else uses it")
		}
	}
	var sec corev1.Secret
	err := call(ctx, u.timeout, func(ctx context.Context) error {
		return u.hub.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: SecretName(u.name)}, &sec)
	})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return hubError("get "+secret.String(), err)
	case sec.Labels[LabelMember] != u.name:
		u.left(secret, "not made by join for this cluster (no "+LabelMember+"="+u.name+" label)")
		return nil
	}
	if err := u.delete(ctx, u.hub, &sec); err != nil {
		return hubError("delete "+secret.String(), err)
	}
	u.deleted(secret)
	return nil
}

// delete deletes obj, if it is still the object that was read.
func (u *unjoiner) delete(ctx context.Context, c client.Client, obj client.Object) error {
	uid := obj.GetUID()
	return call(ctx, u.timeout, func(ctx context.Context) error {
		return client.IgnoreNotFound(c.Delete(ctx, obj, client.Preconditions{UID: &uid}))
	})
}

// memberObjects are the objects Join makes in a member, in the order
// Unjoin deletes them: first what grants access, the namespace last.
func memberObjects() []struct {
	ref ObjectRef
	obj client.Object
} {
	ref := func(kind, ns, name string) ObjectRef {
		return ObjectRef{Side: SideMember, Kind: kind, Namespace: ns, Name: name}
	}
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	return []struct {
		ref ObjectRef
		obj client.Object
	}{
		{ref("ClusterRoleBinding", "", ClusterRoleName), &rbacv1.ClusterRoleBinding{ObjectMeta: meta("", ClusterRoleName)}},
		{ref("ClusterRole", "", ClusterRoleName), &rbacv1.ClusterRole{ObjectMeta: meta("", ClusterRoleName)}},
		{ref("Secret", Namespace, TokenSecretName), &corev1.Secret{ObjectMeta: meta(Namespace, TokenSecretName)}},
		{ref("ServiceAccount", Namespace, ServiceAccountName), &corev1.ServiceAccount{ObjectMeta: meta(Namespace, ServiceAccountName)}},
		{ref("Namespace", "", Namespace), &corev1.Namespace{ObjectMeta: meta("", Namespace)}},
	}
}

// leaveMember records the member-side objects of Join as left behind.
func (u *unjoiner) leaveMember(why string) {
	for _, o := range memberObjects() {
		u.left(o.ref, "not deleted (if present): "+why)
	}
	for _, use := range u.rep.Uses {
		for _, r := range use.Ordinals {
			if r.Count == 0 {
				continue
			}
			u.left(ObjectRef{Side: SideMember, Kind: "StatefulSet", Namespace: use.Namespace, Name: use.Name},
				fmt.Sprintf("not checked (%s): the slice of %s/%s with %s probably still runs, with its Service, PodDisruptionBudget and claims",
					why, use.Namespace, use.Name, Use{Ordinals: []v1alpha1.OrdinalRange{r}}.ordinalText()))
		}
	}
}

// cleanMember deletes the objects Join made in a reachable member. It
// deletes only objects labelled as made by fedstate, and the namespace only
// when Join created it and the hub does not run in the same cluster.
func (u *unjoiner) cleanMember(ctx context.Context, c client.Client) error {
	u.rep.MemberCleaned = true
	for _, o := range memberObjects() {
		err := call(ctx, u.timeout, func(ctx context.Context) error {
			return c.Get(ctx, client.ObjectKeyFromObject(o.obj), o.obj)
		})
		if apierrors.IsNotFound(err) || (err == nil && o.obj.GetDeletionTimestamp() != nil) {
			continue // gone, or going: an earlier unjoin deleted it
		}
		if err != nil {
			u.rep.MemberCleaned = false
			u.left(o.ref, fmt.Sprintf("could not read it: %v", err))
			return fmt.Errorf("member: get %s: %w", o.ref, err)
		}
		if why := u.keep(ctx, c, o.obj); why != "" {
			u.rep.MemberCleaned = false
			u.left(o.ref, why)
			continue
		}
		if err := u.delete(ctx, c, o.obj); err != nil {
			u.rep.MemberCleaned = false
			u.left(o.ref, fmt.Sprintf("delete failed: %v", err))
			return fmt.Errorf("member: delete %s: %w", o.ref, err)
		}
		u.deleted(o.ref)
	}
	return nil
}

// keep says why a member object Join would make must stay, or "" when it
// may go.
func (u *unjoiner) keep(ctx context.Context, c client.Client, obj client.Object) string {
	if obj.GetLabels()[LabelManagedBy] != ManagedBy {
		return "not made by fedstate (no " + LabelManagedBy + "=" + ManagedBy + " label)"
	}
	if _, ok := obj.(*corev1.Namespace); !ok {
		return ""
	}
	if obj.GetAnnotations()[AnnotationCreatedBy] != FieldManager {
		return "the namespace existed before join; its ServiceAccount, token and RBAC objects are gone"
	}
	memberID, err := clusterID(ctx, c, u.timeout)
	if err != nil {
		return fmt.Sprintf("could not read the member's cluster ID: %v", err)
	}
	hubID, err := clusterID(ctx, u.hub, u.timeout)
	if err != nil {
		return fmt.Sprintf("could not tell whether the hub runs in this cluster: %v", err)
	}
	if hubID == memberID {
		return "the hub runs in this cluster and keeps its members' kubeconfigs in this namespace"
	}
	return ""
}
