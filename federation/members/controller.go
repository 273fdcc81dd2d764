package members

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// Finalizer keeps a MemberCluster until the registry has disconnected it.
const Finalizer = "fedstate.io/member-connection"

// MemberClusterReconciler connects the registry to every MemberCluster on
// the hub: it reads the kubeconfig Secret the MemberCluster names, connects
// the member (again, when the kubeconfig changes), reports unusable
// credentials in the status, and disconnects the member on delete. The
// registry itself probes connected members and writes their health.
//
// Scope: MemberCluster objects (cluster-scoped) and the Secrets they name;
// it never writes anything in a member.
type MemberClusterReconciler struct {
	// Client reads and writes MemberClusters on the hub (the manager's
	// client).
	Client client.Client
	// APIReader reads kubeconfig Secrets straight from the hub's API
	// server, so that no Secret data sits in a cache. SetupWithManager
	// defaults it to the manager's API reader.
	APIReader client.Reader
	// Registry owns the member connections.
	Registry *Registry
	// Recorder emits events on MemberClusters.
	Recorder events.EventRecorder
}

// SetupWithManager checks the reconciler's fields, adds the registry to the
// manager as a leader-elected Runnable, and registers the controller. It
// watches MemberClusters (spec changes and deletion) and the metadata of
// Secrets, so that a rotated kubeconfig reconnects its member.
func (r *MemberClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	var errs []error
	if r.Client == nil {
		errs = append(errs, errors.New("MemberClusterReconciler: Client is nil"))
	}
	if r.Registry == nil {
		errs = append(errs, errors.New("MemberClusterReconciler: Registry is nil"))
	}
	if r.Recorder == nil {
		errs = append(errs, errors.New("MemberClusterReconciler: Recorder is nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if err := mgr.Add(r.Registry); err != nil {
		return fmt.Errorf("add member registry to the manager: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("membercluster").
		For(&v1alpha1.MemberCluster{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.membersOfSecret), builder.OnlyMetadata).
		Complete(r)
}

// Reconcile connects, reconnects or disconnects one member.
func (r *MemberClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	mc := &v1alpha1.MemberCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, mc); err != nil {
		if apierrors.IsNotFound(err) {
			// Gone without our finalizer (removed by hand): make sure
			// nothing of it stays connected.
			return ctrl.Result{}, r.Registry.disconnect(ctx, req.Name)
		}
		return ctrl.Result{}, fmt.Errorf("get MemberCluster %s: %w", req.Name, err)
	}
	if !mc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, mc)
	}
	if !controllerutil.ContainsFinalizer(mc, Finalizer) {
		before := mc.DeepCopy()
		controllerutil.AddFinalizer(mc, Finalizer)
		if err := r.patch(ctx, before, mc); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, r.reconcileNormal(ctx, mc)
}

// membersOfSecret maps a Secret to the MemberClusters whose kubeconfig it
// holds.
func (r *MemberClusterReconciler) membersOfSecret(ctx context.Context, secret client.Object) []reconcile.Request {
	var list v1alpha1.MemberClusterList
	if err := r.Client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Cannot list MemberClusters for a Secret", "secret", client.ObjectKeyFromObject(secret))
		return nil
	}
	var out []reconcile.Request
	for _, mc := range list.Items {
		ref := mc.Spec.KubeconfigSecretRef
		if ref.Namespace == secret.GetNamespace() && ref.Name == secret.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: mc.Name}})
		}
	}
	return out
}
