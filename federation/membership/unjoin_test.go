package membership_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/membership"
)

// placeServices makes two FederatedStatefulSets in the hub that name the
// member: shop/db runs ordinal 2 there (status.ordinals), shop/cache lists
// it in spec.placement.clusters.
func placeServices(t *testing.T, member string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sliceNamespace}}
	if err := hub.Create(ctx(t), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	template := v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:17"}}},
	}}
	db := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: sliceNamespace, Name: sliceName},
		Spec:       v1alpha1.FederatedStatefulSetSpec{Replicas: 3, Template: template},
	}
	cache := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: sliceNamespace, Name: "cache"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 1, Template: template,
			Placement: v1alpha1.Placement{Clusters: []v1alpha1.ClusterPreference{{Name: member}}}},
	}
	for _, f := range []*v1alpha1.FederatedStatefulSet{db, cache} {
		if err := hub.Create(ctx(t), f); err != nil {
			t.Fatalf("create FederatedStatefulSet %s: %v", f.Name, err)
		}
		t.Cleanup(func() {
			if err := hub.Delete(context.Background(), f); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("delete FederatedStatefulSet %s: %v", f.Name, err)
			}
		})
	}
	db.Status.Ordinals = []v1alpha1.OrdinalRange{{Cluster: "us-1", Start: 0, Count: 2}, {Cluster: member, Start: 2, Count: 1}}
	if err := hub.Status().Update(ctx(t), db); err != nil {
		t.Fatalf("set status.ordinals: %v", err)
	}
}

// checkUnjoinRefuses: while services name the cluster, Unjoin lists them
// and deletes nothing.
func checkUnjoinRefuses(t *testing.T, member string) {
	rep, err := membership.Unjoin(logged(t), hub, adminConfig(t, member), member, false)
	var inUse *membership.InUseError
	if !errors.Is(err, membership.ErrInUse) || !errors.As(err, &inUse) {
		t.Fatalf("Unjoin while in use: %v, want ErrInUse", err)
	}
	for _, want := range []string{"shop/db (ordinal 2)", "shop/cache (spec.placement.clusters)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if len(inUse.Uses) != 2 || len(rep.Uses) != 2 || len(rep.Deleted) != 0 {
		t.Errorf("refusal: %d uses in the error, report %+v", len(inUse.Uses), rep)
	}
	if err := hub.Get(ctx(t), client.ObjectKey{Name: member}, &v1alpha1.MemberCluster{}); err != nil {
		t.Errorf("MemberCluster after a refused unjoin: %v", err)
	}
	if err := mustClient(t, adminConfig(t, member)).Get(ctx(t), client.ObjectKey{Name: membership.ClusterRoleName}, &rbacv1.ClusterRole{}); err != nil {
		t.Errorf("ClusterRole after a refused unjoin: %v", err)
	}
}

// checkForcedUnjoin: forced, Unjoin deletes the hub's and the member's
// membership objects, revokes the token, keeps the slice and says so.
func checkForcedUnjoin(t *testing.T, member string) {
	minted := clientset(t, mintedConfig(t, member))
	rep, err := membership.Unjoin(logged(t), hub, adminConfig(t, member), member, true)
	if err != nil {
		t.Fatalf("forced Unjoin: %v", err)
	}
	deleted := map[string]bool{}
	for _, d := range rep.Deleted {
		deleted[string(d.Side)+" "+d.String()] = true
	}
	for _, want := range []string{
		"hub MemberCluster " + member, "hub Secret fedstate-system/" + member + "-kubeconfig",
		"member ClusterRoleBinding fedstate:hub", "member ClusterRole fedstate:hub",
		"member Secret fedstate-system/fedstate-hub-token", "member ServiceAccount fedstate-system/fedstate-hub",
		"member Namespace fedstate-system",
	} {
		if !deleted[want] {
			t.Errorf("report does not list %q as deleted: %v", want, rep.Deleted)
		}
	}
	left := map[string]string{}
	for _, l := range rep.LeftBehind {
		left[string(l.Side)+" "+l.String()] = l.Reason
	}
	for _, want := range []string{
		"member StatefulSet shop/db", "member PersistentVolumeClaim shop/data-db-2",
		"member Service shop/db", "member PodDisruptionBudget shop/db",
	} {
		if _, ok := left[want]; !ok {
			t.Errorf("report does not list %q as left behind: %v", want, rep.LeftBehind)
		}
	}
	if len(left) != 4 || !rep.MemberCleaned || len(rep.Uses) != 2 {
		t.Errorf("report: %d left behind (want the 4 slice objects), member cleaned %t, %d uses", len(left), rep.MemberCleaned, len(rep.Uses))
	}

	admin := mustClient(t, adminConfig(t, member))
	for _, obj := range []client.Object{&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRole{}} {
		if err := admin.Get(ctx(t), client.ObjectKey{Name: membership.ClusterRoleName}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("member %T after unjoin: %v, want NotFound", obj, err)
		}
	}
	if err := hub.Get(ctx(t), client.ObjectKey{Name: member}, &v1alpha1.MemberCluster{}); !apierrors.IsNotFound(err) {
		t.Errorf("MemberCluster after unjoin: %v, want NotFound", err)
	}
	eventually(t, time.Minute, "the member's fedstate-system namespace gone", func(c context.Context) error {
		err := admin.Get(c, client.ObjectKey{Name: membership.Namespace}, &corev1.Namespace{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	eventually(t, time.Minute, "the minted token rejected", func(c context.Context) error {
		_, err := minted.CoreV1().Nodes().List(c, metav1.ListOptions{})
		if apierrors.IsUnauthorized(err) {
			return nil
		}
		return fmt.Errorf("list nodes with the old token: %v", err)
	})
	if err := admin.Get(ctx(t), client.ObjectKey{Namespace: sliceNamespace, Name: sliceName}, &corev1.Service{}); err != nil {
		t.Errorf("the slice's Service after unjoin: %v, want it kept", err)
	}
}
