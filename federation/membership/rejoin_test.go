package membership_test

import (
	"bytes"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/membership"
)

// checkRejoin runs Join again: unchanged input changes nothing (not even
// the token), an operator's taint survives, a changed zone and a widened
// ClusterRole converge back, and no object is ever duplicated.
func checkRejoin(t *testing.T, name string, opts membership.Options) {
	admin := mustClient(t, adminConfig(t, name))
	kubeconfig := hubKubeconfig(t, name)
	var mc v1alpha1.MemberCluster
	if err := hub.Get(ctx(t), client.ObjectKey{Name: name}, &mc); err != nil {
		t.Fatal(err)
	}
	taint := v1alpha1.Taint{Key: "fedstate.io/maintenance", Effect: v1alpha1.TaintNoSchedule}
	mc.Spec.Taints = []v1alpha1.Taint{taint}
	if err := hub.Update(ctx(t), &mc); err != nil {
		t.Fatal(err)
	}

	res, err := membership.Join(logged(t), hub, adminConfig(t, name), opts)
	if err != nil {
		t.Fatalf("Join again: %v", err)
	}
	if res.Changed() {
		t.Errorf("Join again changed something: %+v", res.Objects)
	}
	if got := hubKubeconfig(t, name); !bytes.Equal(got, kubeconfig) {
		t.Errorf("Join again changed the hub's kubeconfig")
	}
	if err := hub.Get(ctx(t), client.ObjectKey{Name: name}, &mc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mc.Spec.Taints, []v1alpha1.Taint{taint}) {
		t.Errorf("taints after Join again = %v, want the operator's %v", mc.Spec.Taints, taint)
	}

	// Someone widens the ClusterRole and the zone changes: Join puts the
	// rules back and updates the MemberCluster, and only those two.
	var role rbacv1.ClusterRole
	if err := admin.Get(ctx(t), client.ObjectKey{Name: membership.ClusterRoleName}, &role); err != nil {
		t.Fatal(err)
	}
	role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}})
	if err := admin.Update(ctx(t), &role); err != nil {
		t.Fatal(err)
	}
	opts.Zone = "eu-west-b"
	res, err = membership.Join(logged(t), hub, adminConfig(t, name), opts)
	if err != nil {
		t.Fatalf("Join with a new zone: %v", err)
	}
	for _, o := range res.Objects {
		changed := o.Kind == "ClusterRole" || o.Kind == "MemberCluster"
		if want := map[bool]membership.Operation{true: membership.Updated, false: membership.Unchanged}[changed]; o.Operation != want {
			t.Errorf("Join with a new zone: %s %s, want %s", o.ObjectRef, o.Operation, want)
		}
	}
	if err := admin.Get(ctx(t), client.ObjectKey{Name: membership.ClusterRoleName}, &role); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(role.Rules, membership.Rules()) {
		t.Errorf("ClusterRole rules after Join = %v, want exactly Rules()", role.Rules)
	}
	if err := hub.Get(ctx(t), client.ObjectKey{Name: name}, &mc); err != nil {
		t.Fatal(err)
	}
	if mc.Spec.Zone != "eu-west-b" || mc.Labels[membership.LabelZone] != "eu-west-b" {
		t.Errorf("MemberCluster zone %q label %q, want eu-west-b", mc.Spec.Zone, mc.Labels[membership.LabelZone])
	}

	var members v1alpha1.MemberClusterList
	if err := hub.List(ctx(t), &members); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range members.Items {
		if m.Annotations[membership.AnnotationClusterID] == mc.Annotations[membership.AnnotationClusterID] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d MemberClusters stand for %s, want 1", n, name)
	}
	var secrets corev1.SecretList
	if err := admin.List(ctx(t), &secrets, client.InNamespace(membership.Namespace)); err != nil {
		t.Fatal(err)
	}
	if n := countTokens(secrets); n != 1 {
		t.Errorf("member has %d token Secrets after three joins, want 1", n)
	}
}
