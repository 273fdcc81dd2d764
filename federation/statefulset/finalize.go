package statefulset

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// finalize removes a deleted service's slices from every member it had
// ordinals in. An unreachable member holds the deletion for at most
// DeletionTimeout; then the hub records what it leaves there and lets the
// service go.
func (r *Reconciler) finalize(ctx context.Context, fss *v1alpha1.FederatedStatefulSet) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(fss, Finalizer) {
		return ctrl.Result{}, nil
	}
	clusters := map[string]bool{}
	for _, o := range fss.Status.Ordinals {
		clusters[o.Cluster] = true
	}
	for _, c := range fss.Status.Clusters {
		clusters[c.Cluster] = true
	}
	for _, m := range fss.Status.Moves {
		clusters[m.From], clusters[m.To] = true, true
	}

	waited := time.Since(fss.DeletionTimestamp.Time)
	var unreachable []string
	pending := false
	for _, name := range slices.Sorted(maps.Keys(clusters)) {
		cl, err := r.Members.Client(name)
		if err != nil {
			unreachable = append(unreachable, name)
			continue
		}
		m := &member{name: name, client: cl}
		if err := r.deleteSlice(ctx, m, fss); err != nil {
			return ctrl.Result{}, err
		}
		gone, err := sliceGone(ctx, cl, fss)
		if err != nil {
			return ctrl.Result{}, err
		}
		pending = pending || !gone
	}
	if pending {
		// Member events report the objects going away.
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	if len(unreachable) > 0 && waited < r.DeletionTimeout {
		r.Recorder.Eventf(fss, nil, corev1.EventTypeWarning, v1alpha1.ReasonMemberUnreachable, "Delete",
			"Waiting up to %s for %v to remove the slices there", (r.DeletionTimeout - waited).Round(time.Second), unreachable)
		return ctrl.Result{RequeueAfter: min(r.DeletionTimeout-waited, 30*time.Second)}, nil
	}
	if len(unreachable) > 0 {
		patch := client.MergeFrom(fss.DeepCopy())
		fss.Status.LeftBehind = nil
		for _, c := range unreachable {
			var objs []string
			for _, o := range sliceObjects(fss) {
				objs = append(objs, fmt.Sprintf("%s/%s/%s", kindOf(o), o.GetNamespace(), o.GetName()))
			}
			fss.Status.LeftBehind = append(fss.Status.LeftBehind, v1alpha1.LeftBehind{Cluster: c, Objects: objs,
				Reason: fmt.Sprintf("unreachable for the deletion timeout (%s)", r.DeletionTimeout)})
			r.Recorder.Eventf(fss, nil, corev1.EventTypeWarning, "LeftBehind", "Delete",
				"%s unreachable for %s: left StatefulSet, Service and PodDisruptionBudget %s/%s there; delete them when it returns",
				c, r.DeletionTimeout, fss.Namespace, fss.Name)
			ctrl.LoggerFrom(ctx).Info("Left slice behind in unreachable member", "cluster", c, "objects", objs)
		}
		if err := r.Client.Status().Patch(ctx, fss, patch); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("record left-behind objects of %s/%s: %w", fss.Namespace, fss.Name, err)
		}
	}
	patch := client.MergeFrom(fss.DeepCopy())
	controllerutil.RemoveFinalizer(fss, Finalizer)
	if err := r.Client.Patch(ctx, fss, patch); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("remove finalizer of %s/%s: %w", fss.Namespace, fss.Name, err)
	}
	return ctrl.Result{}, nil
}

// sliceGone reports whether the member has none of the slice's objects
// left, judged from its cache.
func sliceGone(ctx context.Context, cl client.Client, fss *v1alpha1.FederatedStatefulSet) (bool, error) {
	for _, o := range sliceObjects(fss) {
		err := cl.Get(ctx, client.ObjectKeyFromObject(o), o)
		switch {
		case err == nil:
			return false, nil
		case !apierrors.IsNotFound(err):
			return false, fmt.Errorf("get %s %s/%s: %w", kindOf(o), o.GetNamespace(), o.GetName(), err)
		}
	}
	return true, nil
}
