package statefulset

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// health is what the conditions of a service are computed from.
type health struct {
	// Replicas wanted and ready.
	Replicas, Ready int
	// NotReady names the replicas that are not ready, as "db-3 (us-1)".
	NotReady []string
	// Invalid is placement's complaint about its input.
	Invalid error
	// Unschedulable holds placement's reasons when no assignment fits.
	Unschedulable []string
	// Assignment describes the target, as "eu-1 0-1, us-1 2-3".
	Assignment string
	// Frozen names members that hold ordinals and cannot be reached.
	Frozen []string
	// ApplyFailed maps members to the error writing their slice.
	ApplyFailed map[string]error
	// Moves in flight and what the step waits for.
	Moves   []Move
	Waiting []string
	// Done is true when the slices match the target.
	Done bool
}

// conditions computes Placed, Available, Progressing and Degraded. A
// condition it cannot judge (Placed while a member is unreachable) is
// left out, so the previous one stays.
func conditions(h health) []metav1.Condition {
	var out []metav1.Condition
	set := func(t string, ok bool, reason, msg string, args ...any) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		out = append(out, metav1.Condition{Type: t, Status: status, Reason: reason, Message: fmt.Sprintf(msg, args...)})
	}

	switch {
	case len(h.Frozen) > 0:
	case h.Invalid != nil:
		set(v1alpha1.ServicePlaced, false, v1alpha1.ReasonUnschedulable, "Placement rejected the spec: %v", h.Invalid)
	case len(h.Unschedulable) > 0:
		set(v1alpha1.ServicePlaced, false, v1alpha1.ReasonUnschedulable, "No assignment keeps every rule; running replicas are left as they are: %s", strings.Join(h.Unschedulable, "; "))
	default:
		set(v1alpha1.ServicePlaced, true, v1alpha1.ReasonPlaced, "Ordinals: %s", h.Assignment)
	}

	need := max(1, h.Replicas-max((h.Replicas-1)/2, 1))
	if h.Ready >= need {
		set(v1alpha1.ServiceAvailable, true, v1alpha1.ReasonReplicasReady, "%d of %d replicas ready (%d needed)", h.Ready, h.Replicas, need)
	} else {
		set(v1alpha1.ServiceAvailable, false, v1alpha1.ReasonReplicasNotReady, "%d of %d replicas ready, %d needed; not ready: %s", h.Ready, h.Replicas, need, list(h.NotReady))
	}

	switch {
	case len(h.Frozen) > 0:
		set(v1alpha1.ServiceProgressing, false, v1alpha1.ReasonMemberUnreachable, "Waiting for %s to return before changing any slice", strings.Join(h.Frozen, ", "))
	case h.Invalid != nil || len(h.Unschedulable) > 0:
		set(v1alpha1.ServiceProgressing, false, v1alpha1.ReasonUnschedulable, "No placement to progress to")
	case len(h.Moves) > 0:
		set(v1alpha1.ServiceProgressing, true, v1alpha1.ReasonMovingReplicas, "Moving %s", describeMoves(h.Moves))
	case !h.Done:
		set(v1alpha1.ServiceProgressing, true, v1alpha1.ReasonScaling, "%s", list(h.Waiting))
	case h.Ready < h.Replicas:
		set(v1alpha1.ServiceProgressing, true, v1alpha1.ReasonScaling, "Waiting for %s", list(h.NotReady))
	default:
		set(v1alpha1.ServiceProgressing, false, v1alpha1.ReasonConverged, "Every slice matches the placement and every replica is ready")
	}

	switch {
	case len(h.Frozen) > 0:
		set(v1alpha1.ServiceDegraded, true, v1alpha1.ReasonMemberUnreachable, "Member clusters holding replicas are unreachable: %s", strings.Join(h.Frozen, ", "))
	case len(h.ApplyFailed) > 0:
		var parts []string
		reason, msg := v1alpha1.ReasonApplyFailed, "Slices could not be written"
		for _, c := range slices.Sorted(maps.Keys(h.ApplyFailed)) {
			parts = append(parts, fmt.Sprintf("%s: %v", c, h.ApplyFailed[c]))
			if rejected(h.ApplyFailed[c]) {
				reason, msg = v1alpha1.ReasonMemberRejected, "Member API servers rejected the slices, so nothing of them was written there; fix the template"
			}
		}
		set(v1alpha1.ServiceDegraded, true, reason, "%s: %s", msg, strings.Join(parts, "; "))
	case h.Done && len(h.Moves) == 0 && h.Ready < h.Replicas:
		set(v1alpha1.ServiceDegraded, true, v1alpha1.ReasonReplicasNotReady, "Not ready: %s", list(h.NotReady))
	default:
		set(v1alpha1.ServiceDegraded, false, v1alpha1.ReasonHealthy, "Every member cluster holding replicas is reachable")
	}
	return out
}

// rejected reports whether a member's API server refused an object as
// invalid, which only a change of the service's spec can fix.
func rejected(err error) bool { return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) }

// list joins at most eight items and says how many more there are.
func list(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	if len(items) > 8 {
		return fmt.Sprintf("%s and %d more", strings.Join(items[:8], ", "), len(items)-8)
	}
	return strings.Join(items, ", ")
}
