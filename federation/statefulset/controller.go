package statefulset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// Finalizer keeps a FederatedStatefulSet until its slices are removed
// from the member clusters (or given up on after DeletionTimeout).
const Finalizer = "fedstate.io/slices"

// FieldManager is the server-side apply field manager of the hub's writes
// in member clusters.
const FieldManager = "fedstate-hub"

// Members is what the controller needs of the member registry.
type Members interface {
	// Client returns a client of the member cluster whose reads of
	// labelled StatefulSets, Services, PodDisruptionBudgets and Pods come
	// from an informer cache; an error when the member is unknown or
	// unreachable. It does not block and is safe for concurrent use.
	Client(cluster string) (client.Client, error)
	// LiveReader returns a reader that always asks the member's API
	// server, for checks that must not trust a cache. Safe for concurrent
	// use.
	LiveReader(cluster string) (client.Reader, error)
}

// DataGate ties ordinal moves to the replicas' data. The destination
// slice only grows to include a moved ordinal once DataReady says the data
// can be brought there, and the move is over only once Seeded says the
// replica holds it: with maxConcurrentMoves 1, no second replica leaves
// its cluster while the first is still without data. The failover
// coordinator's gate serves PrimaryReplica services; Immediate needs no
// data. Methods may block until ctx's deadline and must be safe for
// concurrent use.
type DataGate interface {
	// DataReady reports whether ordinal's data can be brought to cluster
	// to now, its pod having left cluster from.
	DataReady(ctx context.Context, fss *v1alpha1.FederatedStatefulSet, ordinal int, from, to string) (bool, error)
	// Seeded reports whether the replica of ordinal holds its data in
	// cluster to.
	Seeded(ctx context.Context, fss *v1alpha1.FederatedStatefulSet, ordinal int, to string) (bool, error)
}

// Immediate is the DataGate of services whose replicas bring no data
// along: every move may start at once.
type Immediate struct{}

// DataReady always says yes.
func (Immediate) DataReady(context.Context, *v1alpha1.FederatedStatefulSet, int, string, string) (bool, error) {
	return true, nil
}

// Seeded always says yes.
func (Immediate) Seeded(context.Context, *v1alpha1.FederatedStatefulSet, int, string) (bool, error) {
	return true, nil
}

// Reconciler reconciles FederatedStatefulSets. Set the exported fields,
// then call SetupWithManager.
type Reconciler struct {
	// Client is the hub's client.
	Client client.Client
	// APIReader reads services from the hub's API server, never from a
	// cache: the status is the hub's record of what it applied, and a
	// stale one could start an ordinal twice.
	APIReader client.Reader
	// Members gives clients of the member clusters.
	Members Members
	// MemberEvents delivers changes of labelled objects in members.
	MemberEvents <-chan event.GenericEvent
	// Gate holds moves until the moved replica's data is ready.
	Gate DataGate
	// Recorder records events on services.
	Recorder events.EventRecorder
	// DeletionTimeout is how long deleting a service waits for an
	// unreachable member before it records what it leaves behind there
	// and finishes.
	DeletionTimeout time.Duration
	// Workers is the number of services reconciled at once.
	Workers int
	// Timeout bounds one reconcile, every remote call included.
	Timeout time.Duration

	mu      sync.Mutex
	applied map[appliedKey]appliedState
	metrics *metrics
}

// SetupWithManager checks the dependencies and registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	var errs []error
	if r.Client == nil {
		errs = append(errs, errors.New("statefulset: Reconciler.Client is nil"))
	}
	if r.APIReader == nil {
		errs = append(errs, errors.New("statefulset: Reconciler.APIReader is nil"))
	}
	if r.Members == nil {
		errs = append(errs, errors.New("statefulset: Reconciler.Members is nil"))
	}
	if r.MemberEvents == nil {
		errs = append(errs, errors.New("statefulset: Reconciler.MemberEvents is nil"))
	}
	if r.Gate == nil {
		errs = append(errs, errors.New("statefulset: Reconciler.Gate is nil"))
	}
	if r.Recorder == nil {
		errs = append(errs, errors.New("statefulset: Reconciler.Recorder is nil"))
	}
	if r.DeletionTimeout <= 0 {
		errs = append(errs, errors.New("statefulset: Reconciler.DeletionTimeout must be > 0"))
	}
	if r.Timeout <= 0 {
		errs = append(errs, errors.New("statefulset: Reconciler.Timeout must be > 0"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.applied = map[appliedKey]appliedState{}
	r.metrics = newMetrics()
	return ctrl.NewControllerManagedBy(mgr).
		Named("federatedstatefulset").
		For(&v1alpha1.FederatedStatefulSet{}, builder.WithPredicates(specChanged())).
		Watches(&v1alpha1.MemberCluster{}, handler.EnqueueRequestsFromMapFunc(r.everyService), builder.WithPredicates(memberChanged())).
		WatchesRawSource(source.Channel(r.MemberEvents, handler.EnqueueRequestsFromMapFunc(owner))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Workers, 1)}).
		Complete(r)
}

// Reconcile brings one service's slices one step closer to its placement
// and reports what it sees. Scope: the service, its slices in every member
// cluster it has or gets ordinals in, and its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	start := time.Now()
	defer func() { r.metrics.observe(start, err) }()

	var fss v1alpha1.FederatedStatefulSet
	if err := r.APIReader.Get(ctx, req.NamespacedName, &fss); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get FederatedStatefulSet %s: %w", req.NamespacedName, err)
	}
	if !fss.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &fss)
	}
	if !controllerutil.ContainsFinalizer(&fss, Finalizer) {
		patch := client.MergeFrom(fss.DeepCopy())
		controllerutil.AddFinalizer(&fss, Finalizer)
		if err := r.Client.Patch(ctx, &fss, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to %s: %w", req.NamespacedName, err)
		}
	}

	before := fss.DeepCopy()
	defer func() {
		if perr := r.patchStatus(ctx, before, &fss); perr != nil {
			err = errors.Join(err, perr)
		}
	}()
	return r.converge(ctx, &fss)
}

// everyService enqueues every service, for changes of a member cluster.
func (r *Reconciler) everyService(ctx context.Context, _ client.Object) []ctrl.Request {
	var list v1alpha1.FederatedStatefulSetList
	if err := r.Client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List services for a member cluster change")
		return nil
	}
	out := make([]ctrl.Request, 0, len(list.Items))
	for _, s := range list.Items {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
	}
	return out
}

// owner maps a member object to the service named by its label.
func owner(_ context.Context, o client.Object) []ctrl.Request {
	name := o.GetLabels()[v1alpha1.LabelService]
	if name == "" {
		return nil
	}
	return []ctrl.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}
