package members

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// hubTimeout bounds each call to the hub's API server.
const hubTimeout = 10 * time.Second

// publish writes h into the named MemberCluster's status when it changed
// (or lastProbeTime is statusRefresh old), and emits an event for each
// transition it wrote. The status is patched under optimistic locking and
// retried on conflicts.
func (r *Registry) publish(ctx context.Context, name string, h health) error {
	ctx, cancel := context.WithTimeout(ctx, hubTimeout)
	defer cancel()
	var written, before *v1alpha1.MemberCluster
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		mc := &v1alpha1.MemberCluster{}
		if err := r.hub.Get(ctx, client.ObjectKey{Name: name}, mc); err != nil {
			return err
		}
		if !mc.DeletionTimestamp.IsZero() {
			return nil
		}
		desired := mc.DeepCopy()
		applyProbe(&desired.Status, h, mc.Generation)
		if !needsWrite(mc.Status, desired.Status, statusRefresh) {
			return nil
		}
		if err := r.hub.Status().Patch(ctx, desired, client.MergeFromWithOptions(mc, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
		written, before = desired, mc
		return nil
	})
	if err != nil {
		return fmt.Errorf("patch status of MemberCluster %s: %w", name, err)
	}
	if written != nil {
		for _, n := range transitionEvents(before.Status.Conditions, written.Status.Conditions) {
			r.recorder.Eventf(written, nil, n.Type, n.Reason, "Probe", "%s", n.Note)
		}
	}
	return nil
}
