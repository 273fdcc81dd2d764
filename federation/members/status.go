package members

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// statusRefresh is how stale status.lastProbeTime may get before the
// registry rewrites a status in which nothing else changed. Probes run more
// often; writing each one would cost the hub's API server a write per
// member per probe for no news.
const statusRefresh = 30 * time.Second

// probeReasons are the reasons only a probe verdict sets; a pending verdict
// leaves conditions with these reasons alone.
var probeReasons = map[string]bool{
	v1alpha1.ReasonProbeSucceeded:    true,
	v1alpha1.ReasonProbeFailed:       true,
	v1alpha1.ReasonAPIServerNotReady: true,
}

// applyProbe writes h into st: the Reachable and Ready conditions,
// lastProbeTime, and the capacity and version when h has them. gen is the
// MemberCluster's generation.
func applyProbe(st *v1alpha1.MemberClusterStatus, h health, gen int64) {
	if !h.LastProbe.IsZero() {
		st.LastProbeTime = &metav1.Time{Time: h.LastProbe}
	}
	if h.Capacity != nil {
		st.Capacity = h.Capacity.DeepCopy()
	}
	if h.Version != "" {
		st.KubernetesVersion = h.Version
	}
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
	switch h.Verdict {
	case pending:
		if c := meta.FindStatusCondition(st.Conditions, v1alpha1.MemberReachable); c != nil && probeReasons[c.Reason] {
			// An earlier verdict (another leader's) stands until this
			// registry reaches one.
			return
		}
		msg := "Connected; waiting for the first probe verdict"
		if h.LastErr != nil {
			msg += fmt.Sprintf(" (last probe failed: %v)", h.LastErr)
		}
		set(v1alpha1.MemberReachable, metav1.ConditionUnknown, v1alpha1.ReasonProbePending, msg)
		set(v1alpha1.MemberReady, metav1.ConditionUnknown, v1alpha1.ReasonProbePending, msg)
	case healthy:
		set(v1alpha1.MemberReachable, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, "The API server answered /readyz")
		set(v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded, "The API server is ready")
	case notReady:
		// No failure count in messages: it would rewrite the status on
		// every probe of a member that stays down.
		msg := fmt.Sprintf("The API server answers, but /readyz keeps failing: %v", h.LastErr)
		set(v1alpha1.MemberReachable, metav1.ConditionTrue, v1alpha1.ReasonAPIServerNotReady, "The API server answers /readyz, with an error")
		set(v1alpha1.MemberReady, metav1.ConditionFalse, v1alpha1.ReasonAPIServerNotReady, msg)
	case unreachable:
		msg := fmt.Sprintf("The API server did not answer /readyz: %v", h.LastErr)
		set(v1alpha1.MemberReachable, metav1.ConditionFalse, v1alpha1.ReasonProbeFailed, msg)
		set(v1alpha1.MemberReady, metav1.ConditionFalse, v1alpha1.ReasonProbeFailed, msg)
	}
}

// applyCredentialProblem writes into st why the hub cannot connect to the
// member at all: reason is ReasonSecretNotFound or ReasonKubeconfigInvalid.
// Reachable becomes Unknown (nothing was probed), Ready False.
func applyCredentialProblem(st *v1alpha1.MemberClusterStatus, reason, msg string, gen int64) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1alpha1.MemberReachable, Status: metav1.ConditionUnknown, Reason: reason, Message: msg, ObservedGeneration: gen,
	})
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1alpha1.MemberReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: gen,
	})
}

// needsWrite reports whether desired differs from old in anything but
// lastProbeTime, or lastProbeTime moved by refresh or more.
func needsWrite(old, desired v1alpha1.MemberClusterStatus, refresh time.Duration) bool {
	a, b := old.DeepCopy(), desired.DeepCopy()
	a.LastProbeTime, b.LastProbeTime = nil, nil
	if !equality.Semantic.DeepEqual(a, b) {
		return true
	}
	switch {
	case desired.LastProbeTime == nil:
		return false
	case old.LastProbeTime == nil:
		return true
	}
	return desired.LastProbeTime.Sub(old.LastProbeTime.Time) >= refresh
}

// eventNote is an event to emit on a MemberCluster.
type eventNote struct {
	Type, Reason, Note string
}

// transitionEvents lists the events a status change from old to new
// conditions deserves: the member became unreachable, not ready, or ready
// (again), or its credentials became unusable.
func transitionEvents(old, new []metav1.Condition) []eventNote {
	var out []eventNote
	oldReady, newReady := meta.FindStatusCondition(old, v1alpha1.MemberReady), meta.FindStatusCondition(new, v1alpha1.MemberReady)
	oldReach, newReach := meta.FindStatusCondition(old, v1alpha1.MemberReachable), meta.FindStatusCondition(new, v1alpha1.MemberReachable)
	changed := func(o, n *metav1.Condition) bool {
		return n != nil && (o == nil || o.Status != n.Status || o.Reason != n.Reason)
	}
	if changed(oldReady, newReady) {
		switch newReady.Reason {
		case v1alpha1.ReasonSecretNotFound, v1alpha1.ReasonKubeconfigInvalid, v1alpha1.ReasonAPIServerNotReady:
			out = append(out, eventNote{Type: corev1.EventTypeWarning, Reason: newReady.Reason, Note: newReady.Message})
		}
	}
	if newReach != nil && newReach.Status == metav1.ConditionFalse && (oldReach == nil || oldReach.Status != metav1.ConditionFalse) {
		out = append(out, eventNote{Type: corev1.EventTypeWarning, Reason: v1alpha1.ReasonProbeFailed, Note: "Member unreachable: " + newReach.Message})
	}
	if newReady != nil && newReady.Status == metav1.ConditionTrue && (oldReady == nil || oldReady.Status != metav1.ConditionTrue) {
		note := "Member is reachable and ready"
		if oldReady != nil && oldReady.Status == metav1.ConditionFalse {
			note = "Member is reachable and ready again"
		}
		out = append(out, eventNote{Type: corev1.EventTypeNormal, Reason: v1alpha1.ReasonProbeSucceeded, Note: note})
	}
	for i := range out {
		out[i].Note = truncate(out[i].Note, maxNote)
	}
	return out
}

// maxNote is the longest note the events API accepts.
const maxNote = 1024
