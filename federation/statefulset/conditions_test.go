package statefulset

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func TestConditions(t *testing.T) {
	type want struct {
		status  metav1.ConditionStatus // "" when the condition must be absent
		reason  string
		message string // a substring
	}
	tests := []struct {
		name string
		in   health
		want map[string]want
	}{{
		name: "converged",
		in:   health{Replicas: 5, Ready: 5, Assignment: "eu-1 0-1, us-1 2-3, ap-1 4", Done: true},
		want: map[string]want{
			v1alpha1.ServicePlaced:      {metav1.ConditionTrue, v1alpha1.ReasonPlaced, "eu-1 0-1, us-1 2-3, ap-1 4"},
			v1alpha1.ServiceAvailable:   {metav1.ConditionTrue, v1alpha1.ReasonReplicasReady, "5 of 5"},
			v1alpha1.ServiceProgressing: {metav1.ConditionFalse, v1alpha1.ReasonConverged, ""},
			v1alpha1.ServiceDegraded:    {metav1.ConditionFalse, v1alpha1.ReasonHealthy, ""},
		},
	}, {
		name: "a majority ready is available while the rest start",
		in:   health{Replicas: 5, Ready: 3, NotReady: []string{"db-3 (us-1)", "db-4 (ap-1)"}, Done: true},
		want: map[string]want{
			v1alpha1.ServiceAvailable:   {metav1.ConditionTrue, v1alpha1.ReasonReplicasReady, "3 of 5 replicas ready (3 needed)"},
			v1alpha1.ServiceProgressing: {metav1.ConditionTrue, v1alpha1.ReasonScaling, "db-3 (us-1)"},
			v1alpha1.ServiceDegraded:    {metav1.ConditionTrue, v1alpha1.ReasonReplicasNotReady, "db-4 (ap-1)"},
		},
	}, {
		name: "too few ready",
		in:   health{Replicas: 3, Ready: 1, NotReady: []string{"db-1 (eu-1)", "db-2 (us-1)"}},
		want: map[string]want{
			v1alpha1.ServiceAvailable: {metav1.ConditionFalse, v1alpha1.ReasonReplicasNotReady, "db-1 (eu-1), db-2 (us-1)"},
		},
	}, {
		name: "unreachable member freezes and names the cluster",
		in:   health{Replicas: 5, Ready: 3, Frozen: []string{"us-1"}},
		want: map[string]want{
			v1alpha1.ServicePlaced:      {},
			v1alpha1.ServiceProgressing: {metav1.ConditionFalse, v1alpha1.ReasonMemberUnreachable, "us-1"},
			v1alpha1.ServiceDegraded:    {metav1.ConditionTrue, v1alpha1.ReasonMemberUnreachable, "us-1"},
		},
	}, {
		name: "unschedulable carries the diagnosis",
		in:   health{Replicas: 5, Ready: 5, Unschedulable: []string{"only 2 clusters match the selector"}},
		want: map[string]want{
			v1alpha1.ServicePlaced:      {metav1.ConditionFalse, v1alpha1.ReasonUnschedulable, "only 2 clusters match the selector"},
			v1alpha1.ServiceProgressing: {metav1.ConditionFalse, v1alpha1.ReasonUnschedulable, ""},
		},
	}, {
		name: "invalid input",
		in:   health{Replicas: 5, Invalid: errors.New("bounds: min 4 > max 2")},
		want: map[string]want{
			v1alpha1.ServicePlaced: {metav1.ConditionFalse, v1alpha1.ReasonUnschedulable, "min 4 > max 2"},
		},
	}, {
		name: "moves in flight",
		in:   health{Replicas: 3, Ready: 2, Moves: []Move{{Ordinal: 2, From: "us-1", To: "eu-1", Phase: v1alpha1.MoveDraining}}},
		want: map[string]want{
			v1alpha1.ServiceProgressing: {metav1.ConditionTrue, v1alpha1.ReasonMovingReplicas, "2 us-1->eu-1 (Draining)"},
			v1alpha1.ServiceDegraded:    {metav1.ConditionFalse, v1alpha1.ReasonHealthy, ""},
		},
	}, {
		name: "apply failure names the cluster",
		in:   health{Replicas: 1, Ready: 1, Done: true, ApplyFailed: map[string]error{"ap-1": errors.New("forbidden")}},
		want: map[string]want{
			v1alpha1.ServiceDegraded: {metav1.ConditionTrue, v1alpha1.ReasonApplyFailed, "ap-1: forbidden"},
		},
	}, {
		name: "a member rejecting the template names the member and the field",
		in: health{Replicas: 2, Ready: 1, ApplyFailed: map[string]error{
			"ap-1": errors.New("timeout"),
			"eu-1": fmt.Errorf("apply StatefulSet ns/db in eu-1: %w", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, "db",
				field.ErrorList{field.Invalid(field.NewPath("spec", "template", "spec", "containers").Index(0).Child("resources", "requests"), "2", "must be less than or equal to cpu limit of 1")})),
		}},
		want: map[string]want{
			v1alpha1.ServiceDegraded: {metav1.ConditionTrue, v1alpha1.ReasonMemberRejected, "ap-1: timeout; eu-1: apply StatefulSet ns/db in eu-1: StatefulSet.apps \"db\" is invalid: spec.template.spec.containers[0].resources.requests"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := conditions(tt.in)
			for typ, w := range tt.want {
				c := meta.FindStatusCondition(got, typ)
				if w.status == "" {
					if c != nil {
						t.Errorf("%s = %+v, want absent", typ, *c)
					}
					continue
				}
				if c == nil {
					t.Fatalf("%s missing", typ)
				}
				if c.Status != w.status || c.Reason != w.reason || !strings.Contains(c.Message, w.message) {
					t.Errorf("%s = %s/%s %q, want %s/%s containing %q", typ, c.Status, c.Reason, c.Message, w.status, w.reason, w.message)
				}
			}
		})
	}
}

func TestTransitions(t *testing.T) {
	before := &v1alpha1.FederatedStatefulSetStatus{
		Conditions: []metav1.Condition{{Type: v1alpha1.ServiceDegraded, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonHealthy}},
		Moves:      []v1alpha1.OrdinalMove{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveDraining}, {Ordinal: 2, From: "a", To: "b", Phase: v1alpha1.MoveStarting}},
	}
	after := &v1alpha1.FederatedStatefulSetStatus{
		Conditions: []metav1.Condition{{Type: v1alpha1.ServiceDegraded, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonMemberUnreachable, Message: "us-1"}},
		Moves:      []v1alpha1.OrdinalMove{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveWaitingForData}},
	}
	got := transitions(before, after)
	want := []note{
		{kind: "Warning", reason: v1alpha1.ReasonMemberUnreachable, action: v1alpha1.ServiceDegraded, message: "us-1"},
		{kind: "Normal", reason: "MoveWaitingForData", action: "Move", message: "Replica 1 moving from a to b: WaitingForData"},
		{kind: "Normal", reason: "MoveDone", action: "Move", message: "Replica 2 left a for b"},
	}
	if len(got) != len(want) {
		t.Fatalf("transitions = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := transitions(after, after); len(n) != 0 {
		t.Errorf("no change gave events %+v", n)
	}
}
