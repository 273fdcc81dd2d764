package members

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// write sets the AgentAlive condition of mc (as cached) to cond, unless
// it already says the same. The write is a merge patch of the status
// under optimistic locking, computed against the object as read from the
// API server, so that it never overwrites a condition the registry wrote
// meanwhile; a conflict is retried with a fresh read. A change of status
// or reason is logged and recorded as an event.
func (m *AgentMonitor) write(ctx context.Context, cached *v1alpha1.MemberCluster, cond metav1.Condition) error {
	if sameCondition(meta.FindStatusCondition(cached.Status.Conditions, cond.Type), cond, cached.Generation) {
		return nil
	}
	for attempt := 0; ; attempt++ {
		mc := &v1alpha1.MemberCluster{}
		rctx, cancel := context.WithTimeout(ctx, hubTimeout)
		err := m.APIReader.Get(rctx, client.ObjectKeyFromObject(cached), mc)
		cancel()
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get MemberCluster %s: %w", cached.Name, err)
		}
		old := meta.FindStatusCondition(mc.Status.Conditions, cond.Type)
		if !mc.DeletionTimestamp.IsZero() || sameCondition(old, cond, mc.Generation) {
			return nil // the cache was behind our own last write
		}
		var prev *metav1.Condition
		if old != nil {
			prev = old.DeepCopy()
		}
		desired := mc.DeepCopy()
		c := cond
		c.ObservedGeneration = mc.Generation
		meta.SetStatusCondition(&desired.Status.Conditions, c)
		pctx, cancel := context.WithTimeout(ctx, hubTimeout)
		err = m.Client.Status().Patch(pctx, desired, client.MergeFromWithOptions(mc, client.MergeFromWithOptimisticLock{}))
		cancel()
		if apierrors.IsConflict(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("patch the AgentAlive condition of MemberCluster %s: %w", mc.Name, err)
		}
		if prev == nil || prev.Status != cond.Status || prev.Reason != cond.Reason {
			ctrl.LoggerFrom(ctx).Info("Agent liveness changed", "member", mc.Name, "status", cond.Status, "reason", cond.Reason)
			kind := corev1.EventTypeWarning
			if cond.Reason == v1alpha1.ReasonSessionAlive {
				kind = corev1.EventTypeNormal
			}
			m.Recorder.Eventf(desired, nil, kind, cond.Reason, "Observe", "%s", truncate(cond.Message, maxNote))
		}
		return nil
	}
}

// sameCondition reports whether have already says what want says, for
// generation gen.
func sameCondition(have *metav1.Condition, want metav1.Condition, gen int64) bool {
	return have != nil && have.Status == want.Status && have.Reason == want.Reason && have.Message == want.Message &&
		have.ObservedGeneration == gen
}
