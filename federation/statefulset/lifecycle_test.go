package statefulset_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

const converge = 90 * time.Second

// TestServiceLifecycle follows one service from creation through scaling,
// an evacuation, drift in a member and deletion, while a watch on every
// member proves that no replica name ever runs in two clusters at once.
func TestServiceLifecycle(t *testing.T) {
	ns := namespace(t, "lifecycle")
	ids := watchIdentities(t, ns, "db")
	fss := service(ns, "db", 5)
	if err := hubc.Create(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "5 replicas over 3 regions", func() error { return converged(t.Context(), ns, "db", 5) })
	st := get(t, ns, "db").Status
	t.Logf("placed: %v", st.Ordinals)
	if len(st.Ordinals) != 3 {
		t.Fatalf("ordinal map %v: want one range in each of the 3 regions", st.Ordinals)
	}
	for _, o := range st.Ordinals {
		if o.Count < 1 || o.Count > 2 {
			t.Errorf("range %+v: skew 1 over 3 regions gives 1 or 2", o)
		}
	}
	for _, typ := range []string{v1alpha1.ServicePlaced, v1alpha1.ServiceAvailable} {
		if !meta.IsStatusConditionTrue(st.Conditions, typ) {
			t.Errorf("%s not True: %+v", typ, meta.FindStatusCondition(st.Conditions, typ))
		}
	}

	for _, n := range []int32{7, 4} {
		scale(t, ns, "db", n)
		eventually(t, converge, fmt.Sprintf("scaled to %d", n), func() error { return converged(t.Context(), ns, "db", int(n)) })
		t.Logf("scaled to %d: %v", n, get(t, ns, "db").Status.Ordinals)
	}

	// Evacuate the cluster holding the middle range: its ordinals move.
	st = get(t, ns, "db").Status
	victim := st.Ordinals[1].Cluster
	taint(t, victim, []v1alpha1.Taint{{Key: "maintenance", Effect: v1alpha1.TaintNoExecute}})
	sawMove := false
	eventually(t, 2*converge, "evacuated "+victim, func() error {
		s := get(t, ns, "db").Status
		sawMove = sawMove || len(s.Moves) > 0
		if err := converged(t.Context(), ns, "db", 4); err != nil {
			return err
		}
		for _, o := range s.Ordinals {
			if o.Cluster == victim {
				return fmt.Errorf("%s still holds %+v", victim, o)
			}
		}
		return nil
	})
	if !sawMove {
		t.Error("status never showed a move in progress")
	}
	taint(t, victim, nil)
	ids.assertNone(t)

	// Drift: edits and deletions in a member are reverted.
	holder := get(t, ns, "db").Status.Ordinals[0].Cluster
	m := members[holder]
	var sts appsv1.StatefulSet
	if err := m.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "db"}, &sts); err != nil {
		t.Fatal(err)
	}
	sts.Spec.Template.Spec.Containers[0].Image = "postgres:hacked"
	if err := m.Update(t.Context(), &sts); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(t.Context(), &corev1.Service{ObjectMeta: sts.ObjectMeta}); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "drift in "+holder+" reverted", func() error {
		var got appsv1.StatefulSet
		if err := m.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "db"}, &got); err != nil {
			return err
		}
		if img := got.Spec.Template.Spec.Containers[0].Image; img != "postgres:15" {
			return fmt.Errorf("image %s", img)
		}
		var svc corev1.Service
		return m.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "db"}, &svc)
	})

	if err := hubc.Delete(t.Context(), get(t, ns, "db")); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "service and slices deleted", func() error {
		var fss v1alpha1.FederatedStatefulSet
		if err := hubc.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "db"}, &fss); !apierrors.IsNotFound(err) {
			return fmt.Errorf("service still there: %v", err)
		}
		return noSlices(t, ns, "db", "")
	})
}

// TestUnreachableMember stops a member that holds replicas: the service
// turns Degraded naming it, nothing is deleted or moved anywhere, and when
// the member returns the hub converges without duplicates.
func TestUnreachableMember(t *testing.T) {
	ns := namespace(t, "unreachable")
	if err := hubc.Create(t.Context(), service(ns, "db", 3)); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "3 replicas", func() error { return converged(t.Context(), ns, "db", 3) })
	st := get(t, ns, "db").Status
	victim := st.Ordinals[0].Cluster
	before := slicesOutside(t, ns, "db", victim)

	if err := bed.StopCluster(victim); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = bed.StartCluster(t.Context(), victim)
		}
	})
	eventually(t, converge, "Degraded names "+victim, func() error {
		c := meta.FindStatusCondition(get(t, ns, "db").Status.Conditions, v1alpha1.ServiceDegraded)
		if c == nil || c.Status != "True" || c.Reason != v1alpha1.ReasonMemberUnreachable || !strings.Contains(c.Message, victim) {
			return fmt.Errorf("degraded: %+v", c)
		}
		return nil
	})
	// A spec change while the member is away changes nothing either.
	scale(t, ns, "db", 4)
	consistently(t, 5*time.Second, "slices outside "+victim+" while it is unreachable", func() error {
		if after := slicesOutside(t, ns, "db", victim); after != before {
			return fmt.Errorf("changed:\nbefore %s\nafter  %s", before, after)
		}
		return nil
	})

	if err := bed.StartCluster(t.Context(), victim); err != nil {
		t.Fatal(err)
	}
	restarted = true
	eventually(t, 2*converge, "converged after "+victim+" returned", func() error { return converged(t.Context(), ns, "db", 4) })
	if c := meta.FindStatusCondition(get(t, ns, "db").Status.Conditions, v1alpha1.ServiceDegraded); c == nil || c.Status != "False" {
		t.Errorf("still degraded: %+v", c)
	}
	deleteService(t, ns, "db")
}

// TestUnschedulable: a spec placement cannot satisfy gives Placed=False
// with placement's diagnosis, and a running service is left untouched.
func TestUnschedulable(t *testing.T) {
	ns := namespace(t, "unschedulable")
	fss := service(ns, "db", 3)
	if err := hubc.Create(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "3 replicas", func() error { return converged(t.Context(), ns, "db", 3) })
	gens := sliceGenerations(t, ns, "db")

	fss = get(t, ns, "db")
	fss.Spec.Placement.Clusters = []v1alpha1.ClusterPreference{{Name: gens.any(), Min: ptr[int32](3), Max: ptr[int32](1)}}
	err := hubc.Update(t.Context(), fss)
	if err == nil {
		// The API server accepted it; placement must refuse it.
		eventually(t, converge, "Placed=False", func() error {
			c := meta.FindStatusCondition(get(t, ns, "db").Status.Conditions, v1alpha1.ServicePlaced)
			if c == nil || c.Status != "False" || c.Reason != v1alpha1.ReasonUnschedulable {
				return fmt.Errorf("placed: %+v", c)
			}
			return nil
		})
	}
	fss = get(t, ns, "db")
	fss.Spec.Placement.Clusters = nil
	fss.Spec.Placement.ClusterSelector = matchNothing()
	if err := hubc.Update(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "Placed=False with the diagnosis", func() error {
		c := meta.FindStatusCondition(get(t, ns, "db").Status.Conditions, v1alpha1.ServicePlaced)
		if c == nil || c.Status != "False" || c.Reason != v1alpha1.ReasonUnschedulable || !strings.Contains(c.Message, "not selected by the cluster selector") {
			return fmt.Errorf("placed: %+v", c)
		}
		return nil
	})
	if after := sliceGenerations(t, ns, "db"); after.String() != gens.String() {
		t.Errorf("slices changed although placement failed:\nbefore %s\nafter  %s", gens, after)
	}
	deleteService(t, ns, "db")
}

// TestDeleteWhileUnreachable: deleting a service while a member holding a
// slice is down finishes after the deletion timeout, records what stays
// there, and removes the slices everywhere else.
func TestDeleteWhileUnreachable(t *testing.T) {
	ns := namespace(t, "deletion")
	if err := hubc.Create(t.Context(), service(ns, "db", 3)); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "3 replicas", func() error { return converged(t.Context(), ns, "db", 3) })
	victim := get(t, ns, "db").Status.Ordinals[0].Cluster
	if err := bed.StopCluster(victim); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := bed.StartCluster(t.Context(), victim); err != nil {
			t.Error(err)
		}
		// What the hub left behind is the operator's to remove.
		for _, o := range []client.Object{&appsv1.StatefulSet{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}} {
			o.SetNamespace(ns)
			o.SetName("db")
			if err := members[victim].Delete(t.Context(), o); err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		}
	}()
	eventually(t, converge, victim+" unreachable", func() error {
		c := meta.FindStatusCondition(get(t, ns, "db").Status.Conditions, v1alpha1.ServiceDegraded)
		if c == nil || c.Reason != v1alpha1.ReasonMemberUnreachable {
			return fmt.Errorf("degraded: %+v", c)
		}
		return nil
	})
	start := time.Now()
	if err := hubc.Delete(t.Context(), get(t, ns, "db")); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "service gone", func() error {
		var fss v1alpha1.FederatedStatefulSet
		if err := hubc.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "db"}, &fss); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	// deletionTimestamp has whole seconds.
	if waited := time.Since(start); waited < deletionTimeout-time.Second {
		t.Errorf("deletion finished after %s, before the %s timeout", waited, deletionTimeout)
	}
	if err := noSlices(t, ns, "db", victim); err != nil {
		t.Error(err)
	}
	var evs eventsv1.EventList
	if err := hubc.List(t.Context(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs.Items {
		found = found || (e.Reason == "LeftBehind" && strings.Contains(e.Note, victim))
	}
	if !found {
		t.Errorf("no LeftBehind event naming %s", victim)
	}
}
