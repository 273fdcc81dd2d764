package statefulset_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// TestMemberRejectsTemplate: a template the hub accepts (its schema does
// not compare a container's limits with its requests) but every member's
// API server rejects is reported in the service's status and in an event,
// naming the member and the field; no member keeps a half-written slice;
// a valid service on the same members converges meanwhile; and fixing the
// template clears the condition.
func TestMemberRejectsTemplate(t *testing.T) {
	ns := namespace(t, "rejected")
	bad := service(ns, "bad", 3)
	bad.Spec.Template.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
	}
	if err := hubc.Create(t.Context(), bad); err != nil {
		t.Fatalf("the hub refused the template, so the test proves nothing: %v", err)
	}
	good := service(ns, "good", 3)
	if err := hubc.Create(t.Context(), good); err != nil {
		t.Fatal(err)
	}

	const field = "spec.template.spec.containers[0].resources.requests"
	var message string
	eventually(t, converge, "bad reported as rejected", func() error {
		c := meta.FindStatusCondition(get(t, ns, "bad").Status.Conditions, v1alpha1.ServiceDegraded)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonMemberRejected {
			return fmt.Errorf("degraded: %+v", c)
		}
		ords := get(t, ns, "bad").Status.Ordinals
		if len(ords) == 0 {
			return fmt.Errorf("no ordinal map yet; degraded: %+v", c)
		}
		for _, o := range ords {
			if !strings.Contains(c.Message, o.Cluster+": ") {
				return fmt.Errorf("message does not name %s: %s", o.Cluster, c.Message)
			}
		}
		if !strings.Contains(c.Message, field) {
			return fmt.Errorf("message does not name %s: %s", field, c.Message)
		}
		message = c.Message
		return nil
	})
	t.Logf("condition: %s", message)
	eventually(t, converge, "good converged beside it", func() error { return converged(t.Context(), ns, "good", 3) })
	clusters := func(name string) []string {
		var out []string
		for _, o := range get(t, ns, name).Status.Ordinals {
			out = append(out, o.Cluster)
		}
		return slices.Sorted(slices.Values(out))
	}
	// bad's slices grow one ordinal at a time behind ready pods, so it
	// targets some of good's members.
	b, g := clusters("bad"), clusters("good")
	for _, c := range b {
		if !slices.Contains(g, c) {
			t.Fatalf("bad placed on %v, good on %v: want bad's members among good's", b, g)
		}
	}
	consistently(t, 3*time.Second, "no half-written slice of bad", func() error { return noSlices(t, ns, "bad", "") })

	var evs eventsv1.EventList
	if err := hubc.List(t.Context(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs.Items {
		found = found || (e.Regarding.Name == "bad" && e.Type == corev1.EventTypeWarning &&
			e.Reason == v1alpha1.ReasonMemberRejected && strings.Contains(e.Note, field))
	}
	if !found {
		t.Errorf("no Warning event %s on bad naming %s", v1alpha1.ReasonMemberRejected, field)
	}

	fixed := get(t, ns, "bad")
	fixed.Spec.Template.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("2")
	if err := hubc.Update(t.Context(), fixed); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "bad converged once fixed", func() error { return converged(t.Context(), ns, "bad", 3) })
	if c := meta.FindStatusCondition(get(t, ns, "bad").Status.Conditions, v1alpha1.ServiceDegraded); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("degraded after the fix: %+v", c)
	}
	deleteService(t, ns, "bad")
	deleteService(t, ns, "good")
}
