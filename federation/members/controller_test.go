package members_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/members"
)

// createMemberCluster creates a MemberCluster whose kubeconfig is under
// key of the Secret secret, and deletes it when the test ends.
func createMemberCluster(t *testing.T, name, secret, key string) {
	t.Helper()
	mc := &v1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.MemberClusterSpec{
			Region:              "test",
			KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: secretNamespace, Name: secret, Key: key},
		},
	}
	if err := within(t, func(ctx context.Context) error { return hub.Create(ctx, mc) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteMemberCluster(t, name) })
}

// deleteMemberCluster deletes a MemberCluster and waits until it is gone.
func deleteMemberCluster(t *testing.T, name string) {
	t.Helper()
	mc := &v1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := within(t, func(ctx context.Context) error { return hub.Delete(ctx, mc) })
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "MemberCluster "+name+" gone", func(ctx context.Context) error {
		if _, err := memberCluster(ctx, name); !apierrors.IsNotFound(err) {
			return errors.New("still there")
		}
		return nil
	})
}

// putSecret creates or replaces a kubeconfig Secret in the hub.
func putSecret(t *testing.T, name, key string, value []byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: secretNamespace, Name: name}, Data: map[string][]byte{key: value}}
	err := within(t, func(ctx context.Context) error {
		err := hub.Create(ctx, s)
		if apierrors.IsAlreadyExists(err) {
			return hub.Update(ctx, s)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// kubeconfigOf reads the admin kubeconfig of a bed cluster.
func kubeconfigOf(t *testing.T, name string) []byte {
	t.Helper()
	c, err := bed.Cluster(name)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestUnreachableMemberKeepsEverything(t *testing.T) {
	const name, ns = "ap-1", "outage-test"
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, time.Minute)
	direct := admin(t, name)
	namespace(t, direct, ns)
	sts := statefulSet(ns, "db", "db")
	if err := within(t, func(ctx context.Context) error { return direct.Create(ctx, sts) }); err != nil {
		t.Fatal(err)
	}
	failuresBefore, _ := metricValue(t, "fedstate_members_probe_failures_total", name)

	stopped := time.Now()
	if err := bed.StopCluster(name); err != nil {
		t.Fatal(err)
	}
	t.Logf("StopCluster took %s", time.Since(stopped).Round(time.Millisecond))
	running := false
	t.Cleanup(func() {
		// Leave the member running for the other tests, whatever happened.
		if running {
			return
		}
		if err := bed.StartCluster(base(t), name); err != nil {
			t.Error(err)
		}
	})
	waitCondition(t, name, v1alpha1.MemberReachable, metav1.ConditionFalse, v1alpha1.ReasonProbeFailed, 30*time.Second)
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionFalse, v1alpha1.ReasonProbeFailed, 5*time.Second)
	t.Logf("unreachable after %s", time.Since(stopped).Round(time.Millisecond))
	waitEvent(t, name, corev1.EventTypeWarning, v1alpha1.ReasonProbeFailed, stopped)
	if registry.Reachable(name) {
		t.Error("Reachable = true during the outage")
	}
	_, err := registry.Client(name)
	if !errors.Is(err, members.ErrUnreachable) || errors.Is(err, members.ErrUnknownMember) {
		t.Errorf("Client during the outage: %v, want ErrUnreachable", err)
	}
	if v, ok := metricValue(t, "fedstate_members_reachable", name); !ok || v != 0 {
		t.Errorf("fedstate_members_reachable = %v (exists %t), want 0", v, ok)
	}
	if v, _ := metricValue(t, "fedstate_members_probe_failures_total", name); v < failuresBefore+2 {
		t.Errorf("fedstate_members_probe_failures_total = %v, want at least %v", v, failuresBefore+2)
	}
	if err := within(t, func(ctx context.Context) error {
		mc, err := memberCluster(ctx, name)
		if err == nil && !mc.DeletionTimestamp.IsZero() {
			err = errors.New("being deleted")
		}
		return err
	}); err != nil {
		t.Errorf("MemberCluster during the outage: %v", err)
	}

	restarted := time.Now()
	if err := bed.StartCluster(base(t), name); err != nil {
		t.Fatal(err)
	}
	running = true
	waitCondition(t, name, v1alpha1.MemberReachable, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, 30*time.Second)
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, 5*time.Second)
	if e := waitEvent(t, name, corev1.EventTypeNormal, v1alpha1.ReasonProbeSucceeded, restarted); !strings.Contains(e.Note, "again") {
		t.Errorf("recovery event note %q does not say the member is back", e.Note)
	}
	mc, err := registry.Client(name)
	if err != nil {
		t.Fatalf("Client after the outage: %v", err)
	}
	eventually(t, 30*time.Second, "the StatefulSet survived the outage", func(ctx context.Context) error {
		return mc.Get(ctx, client.ObjectKeyFromObject(sts), &appsv1.StatefulSet{})
	})
}

func TestGarbageKubeconfigIsInvalid(t *testing.T) {
	const name = "garbage"
	start := time.Now()
	putSecret(t, "garbage-kubeconfig", members.DefaultKubeconfigKey, []byte("this is not a kubeconfig: [\n"))
	createMemberCluster(t, name, "garbage-kubeconfig", "")
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionFalse, v1alpha1.ReasonKubeconfigInvalid, 30*time.Second)
	waitCondition(t, name, v1alpha1.MemberReachable, metav1.ConditionUnknown, v1alpha1.ReasonKubeconfigInvalid, 5*time.Second)
	waitEvent(t, name, corev1.EventTypeWarning, v1alpha1.ReasonKubeconfigInvalid, start)
	if _, err := registry.Client(name); !errors.Is(err, members.ErrUnknownMember) {
		t.Errorf("Client of a member with an invalid kubeconfig: %v, want ErrUnknownMember", err)
	}
}

// TestSecretLifecycle follows one MemberCluster through a missing Secret,
// a valid kubeconfig under a custom key, a rotated (garbage) one, and a
// kubeconfig of another member.
func TestSecretLifecycle(t *testing.T) {
	const name, secret, key = "late", "late-kubeconfig", "config"
	start := time.Now()
	createMemberCluster(t, name, secret, key)
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, 30*time.Second)
	waitEvent(t, name, corev1.EventTypeWarning, v1alpha1.ReasonSecretNotFound, start)
	if _, err := registry.Client(name); !errors.Is(err, members.ErrUnknownMember) {
		t.Errorf("Client without a Secret: %v, want ErrUnknownMember", err)
	}

	putSecret(t, secret, key, kubeconfigOf(t, "us-1"))
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, 30*time.Second)
	if _, err := registry.Client(name); err != nil {
		t.Errorf("Client once the Secret exists: %v", err)
	}

	putSecret(t, secret, key, []byte("{}"))
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionFalse, v1alpha1.ReasonKubeconfigInvalid, 30*time.Second)
	if _, err := registry.Client(name); !errors.Is(err, members.ErrUnknownMember) {
		t.Errorf("Client after the kubeconfig turned invalid: %v, want ErrUnknownMember", err)
	}

	putSecret(t, secret, key, kubeconfigOf(t, "eu-1"))
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, 30*time.Second)
	eventually(t, 30*time.Second, "registry connected again", func(context.Context) error {
		_, err := registry.Client(name)
		return err
	})
}

func TestDeleteDisconnects(t *testing.T) {
	const name = "doomed"
	createMemberCluster(t, name, "member-eu-1", "")
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, 30*time.Second)
	if _, err := registry.Client(name); err != nil {
		t.Fatalf("Client: %v", err)
	}

	// A spec change is observed; the member stays connected.
	err := within(t, func(ctx context.Context) error {
		mc, err := memberCluster(ctx, name)
		if err != nil {
			return err
		}
		mc.Spec.Zone = "moved"
		return hub.Update(ctx, mc)
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "observedGeneration follows the spec", func(ctx context.Context) error {
		mc, err := memberCluster(ctx, name)
		if err != nil {
			return err
		}
		if mc.Generation < 2 || mc.Status.ObservedGeneration != mc.Generation {
			return fmt.Errorf("generation %d, observedGeneration %d", mc.Generation, mc.Status.ObservedGeneration)
		}
		for _, c := range mc.Status.Conditions {
			if c.ObservedGeneration != mc.Generation {
				return fmt.Errorf("condition %s observedGeneration %d", c.Type, c.ObservedGeneration)
			}
		}
		return nil
	})

	deleteMemberCluster(t, name)
	if _, err := registry.Client(name); !errors.Is(err, members.ErrUnknownMember) {
		t.Errorf("Client after the MemberCluster was deleted: %v, want ErrUnknownMember", err)
	}
	if registry.Reachable(name) || registry.Capacity(name) != nil {
		t.Error("the deleted member is still reachable or has a capacity")
	}
	if _, ok := metricValue(t, "fedstate_members_reachable", name); ok {
		t.Error("the deleted member still has a fedstate_members_reachable series")
	}
	// The member itself is untouched, and so is the member it shared.
	if _, err := registry.Client("eu-1"); err != nil {
		t.Errorf("Client(eu-1) after deleting another MemberCluster on the same cluster: %v", err)
	}
}

func TestIdleMemberStatusIsNotRewritten(t *testing.T) {
	const name = "us-1"
	waitCondition(t, name, v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, time.Minute)
	var rv string
	eventually(t, time.Minute, "a status write", func(ctx context.Context) error {
		mc, err := memberCluster(ctx, name)
		if err != nil {
			return err
		}
		rv = mc.ResourceVersion
		return nil
	})
	// Ten probe intervals and more: the status must not move, since only
	// lastProbeTime would change and it is refreshed every 30 s.
	window := time.After(10*testConfig().ProbeInterval + time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-window:
			return
		case <-tick.C:
		}
		err := within(t, func(ctx context.Context) error {
			mc, err := memberCluster(ctx, name)
			if err == nil && mc.ResourceVersion != rv {
				err = fmt.Errorf("MemberCluster rewritten (resourceVersion %s -> %s) with status %+v", rv, mc.ResourceVersion, mc.Status)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
