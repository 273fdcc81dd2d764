package membership_test

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/membership"
)

// TestNamesAndClustersAreNeverConfused: a MemberCluster name stays with its
// cluster, a cluster stays with its name, and Unjoin never cleans a cluster
// it was not given. us-1 is joined; ap-1 is never.
func TestNamesAndClustersAreNeverConfused(t *testing.T) {
	const name = "us-1"
	if _, err := membership.Join(logged(t), hub, adminConfig(t, name), membership.Options{Name: name, Region: "us-east"}); err != nil {
		t.Fatalf("Join: %v", err)
	}

	_, err := membership.Join(logged(t), hub, adminConfig(t, "ap-1"), membership.Options{Name: name, Region: "ap-south"})
	if !errors.Is(err, membership.ErrNameTaken) {
		t.Errorf("Join ap-1 as %s: %v, want ErrNameTaken", name, err)
	}
	assertNeverJoined(t, "ap-1")

	_, err = membership.Join(logged(t), hub, adminConfig(t, name), membership.Options{Name: "us-2", Region: "us-east"})
	if !errors.Is(err, membership.ErrJoinedElsewhere) {
		t.Errorf("Join us-1 again as us-2: %v, want ErrJoinedElsewhere", err)
	}
	if err := hub.Get(ctx(t), client.ObjectKey{Name: "us-2"}, &v1alpha1.MemberCluster{}); !apierrors.IsNotFound(err) {
		t.Errorf("MemberCluster us-2: %v, want NotFound", err)
	}

	_, err = membership.Unjoin(logged(t), hub, adminConfig(t, "ap-1"), name, false)
	if !errors.Is(err, membership.ErrWrongCluster) {
		t.Errorf("Unjoin %s with ap-1's configuration: %v, want ErrWrongCluster", name, err)
	}
	if err := hub.Get(ctx(t), client.ObjectKey{Name: name}, &v1alpha1.MemberCluster{}); err != nil {
		t.Errorf("MemberCluster %s after a refused unjoin: %v", name, err)
	}

	// Without the member's configuration the hub side goes and the report
	// lists every member-side object as left behind.
	rep, err := membership.Unjoin(logged(t), hub, nil, name, false)
	if err != nil {
		t.Fatalf("Unjoin without the member: %v", err)
	}
	if len(rep.Deleted) != 2 || len(rep.LeftBehind) != 5 || rep.MemberCleaned {
		t.Errorf("Unjoin without the member: deleted %v, left %v, cleaned %t; want the 2 hub objects deleted, the 5 member objects left",
			rep.Deleted, rep.LeftBehind, rep.MemberCleaned)
	}
	admin := mustClient(t, adminConfig(t, name))
	if err := admin.Get(ctx(t), client.ObjectKey{Name: membership.ClusterRoleName}, &rbacv1.ClusterRole{}); err != nil {
		t.Errorf("ClusterRole after unjoin without the member: %v, want it left", err)
	}

	// Running it again with the member finishes the job.
	rep, err = membership.Unjoin(logged(t), hub, adminConfig(t, name), name, false)
	if err != nil {
		t.Fatalf("Unjoin again with the member: %v", err)
	}
	if len(rep.Deleted) != 5 || len(rep.LeftBehind) != 0 || !rep.MemberCleaned {
		t.Errorf("Unjoin again: deleted %v, left %v, cleaned %t; want the 5 member objects deleted", rep.Deleted, rep.LeftBehind, rep.MemberCleaned)
	}
	if err := admin.Get(ctx(t), client.ObjectKey{Name: membership.ClusterRoleName}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRole after the second unjoin: %v, want NotFound", err)
	}

	// Joining again at once waits for the old namespace to terminate.
	if _, err := membership.Join(logged(t), hub, adminConfig(t, name), membership.Options{Name: name, Region: "us-east"}); err != nil {
		t.Fatalf("Join right after Unjoin: %v", err)
	}
	if _, err := membership.Unjoin(logged(t), hub, adminConfig(t, name), name, false); err != nil {
		t.Fatalf("Unjoin after the rejoin: %v", err)
	}
}

// assertNeverJoined checks that nothing of Join exists for member, in the
// member or the hub.
func assertNeverJoined(t *testing.T, member string) {
	t.Helper()
	admin := mustClient(t, adminConfig(t, member))
	for _, c := range []struct {
		what string
		c    client.Client
		key  client.ObjectKey
		obj  client.Object
	}{
		{"member Namespace", admin, client.ObjectKey{Name: membership.Namespace}, &corev1.Namespace{}},
		{"member ClusterRole", admin, client.ObjectKey{Name: membership.ClusterRoleName}, &rbacv1.ClusterRole{}},
		{"hub Secret", hub, client.ObjectKey{Namespace: membership.Namespace, Name: membership.SecretName(member)}, &corev1.Secret{}},
		{"hub MemberCluster", hub, client.ObjectKey{Name: member}, &v1alpha1.MemberCluster{}},
	} {
		if err := c.c.Get(ctx(t), c.key, c.obj); !apierrors.IsNotFound(err) {
			t.Errorf("%s %s: %v, want NotFound", c.what, c.key, err)
		}
	}
}
