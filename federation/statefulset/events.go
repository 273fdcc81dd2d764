package statefulset

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// note is one event to record on a service.
type note struct {
	kind, reason, action, message string
}

// transitions lists the events between two statuses of a service: every
// condition that changes status or reason, and every move that starts,
// changes phase or ends.
func transitions(before, after *v1alpha1.FederatedStatefulSetStatus) []note {
	var out []note
	for _, c := range after.Conditions {
		old := meta.FindStatusCondition(before.Conditions, c.Type)
		if old != nil && old.Status == c.Status && old.Reason == c.Reason {
			continue
		}
		if old == nil && c.Status == metav1.ConditionFalse && c.Type == v1alpha1.ServiceDegraded {
			continue // a new, healthy service is no news
		}
		kind := corev1.EventTypeNormal
		if bad(c) {
			kind = corev1.EventTypeWarning
		}
		out = append(out, note{kind: kind, reason: c.Reason, action: c.Type, message: c.Message})
	}
	was := map[int32]v1alpha1.OrdinalMove{}
	for _, m := range before.Moves {
		was[m.Ordinal] = m
	}
	for _, m := range after.Moves {
		old, ok := was[m.Ordinal]
		delete(was, m.Ordinal)
		if ok && old.Phase == m.Phase {
			continue
		}
		out = append(out, note{kind: corev1.EventTypeNormal, reason: "Move" + string(m.Phase), action: "Move",
			message: fmt.Sprintf("Replica %d moving from %s to %s: %s", m.Ordinal, m.From, m.To, m.Phase)})
	}
	for _, m := range before.Moves {
		if _, gone := was[m.Ordinal]; gone {
			out = append(out, note{kind: corev1.EventTypeNormal, reason: "MoveDone", action: "Move",
				message: fmt.Sprintf("Replica %d left %s for %s", m.Ordinal, m.From, m.To)})
		}
	}
	return out
}

// bad reports whether a condition describes trouble.
func bad(c metav1.Condition) bool {
	switch c.Type {
	case v1alpha1.ServiceDegraded:
		return c.Status == metav1.ConditionTrue
	case v1alpha1.ServicePlaced, v1alpha1.ServiceAvailable:
		return c.Status == metav1.ConditionFalse
	}
	return c.Reason == v1alpha1.ReasonMemberUnreachable || c.Reason == v1alpha1.ReasonUnschedulable
}
