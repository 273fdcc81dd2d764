package drill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// Finalizer keeps a FailoverDrill until the member-cluster taints of its
// run are removed and its traffic stopped.
const Finalizer = "fedstate.io/drill"

// Config tunes the drill controller.
type Config struct {
	// ReportDir is the directory reports are written under:
	// <ReportDir>/<namespace>/<drill>-<run>/.
	ReportDir string
	// PollInterval is how often a running drill looks at its service while
	// it waits for a switchover, besides the service's changes.
	PollInterval time.Duration
	// WaitInterval is how often a drill waiting for another drill of its
	// service checks again.
	WaitInterval time.Duration
	// VerifyTimeout bounds reading the acknowledged writes back from the
	// final primary.
	VerifyTimeout time.Duration
	// FollowTimeout bounds how long the switch back waits, after the
	// switchover away ended, for the original primary to follow the
	// current one (the coordinator refuses a target that does not);
	// past it the switch back is requested anyway.
	FollowTimeout time.Duration
}

// DefaultConfig is the controller's default configuration.
func DefaultConfig() Config {
	return Config{
		// config.DefaultDrills' directory.
		ReportDir: "fedstate-drills",
		// A second: a switchover takes about one, and the status changes
		// wake the drill anyway; this only bounds a missed change.
		PollInterval: time.Second,
		// A drill runs for tens of seconds; five seconds of delay after
		// another one ends is nothing.
		WaitInterval: 5 * time.Second,
		// load.Generator.Verify's own bound is a minute; a drill report
		// should not wait that long on one server.
		VerifyTimeout: 30 * time.Second,
		// A demoted primary follows the new one seconds after the
		// switchover (a restart as a standby, a rewind at worst); a
		// minute is generous, and the coordinator's refusal then ends
		// the run.
		FollowTimeout: time.Minute,
	}
}

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	if c.ReportDir == "" {
		errs = append(errs, errors.New("drill: ReportDir is empty"))
	}
	for name, d := range map[string]time.Duration{"PollInterval": c.PollInterval, "WaitInterval": c.WaitInterval, "VerifyTimeout": c.VerifyTimeout, "FollowTimeout": c.FollowTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("drill: %s must be > 0, got %s", name, d))
		}
	}
	return errors.Join(errs...)
}

// Reconciler runs FailoverDrills: one run at a time per service, each a
// sequence of steps (status.step) that survives a restart of the hub. Set
// the exported fields, then call SetupWithManager.
type Reconciler struct {
	// Client reads drills, services and member clusters, writes drills'
	// status, the services' switchover annotation and member-cluster
	// taints.
	Client client.Client
	// APIReader reads drills from the API server, so that a step never
	// acts on a stale one and two drills of a service never start
	// together.
	APIReader client.Reader
	// Recorder records events on drills.
	Recorder events.EventRecorder
	// NewTraffic makes a run's client traffic; nil is NewLoad.
	NewTraffic NewTraffic
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Config tunes the controller.
	Config Config

	runs runs
}

// SetupWithManager checks the dependencies and adds the controller to
// mgr. Traffic still running when the manager stops is stopped.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	errs := []error{r.Config.Validate()}
	if r.Client == nil {
		errs = append(errs, errors.New("drill: Client is nil"))
	}
	if r.APIReader == nil {
		errs = append(errs, errors.New("drill: APIReader is nil"))
	}
	if r.Recorder == nil {
		errs = append(errs, errors.New("drill: Recorder is nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if r.NewTraffic == nil {
		r.NewTraffic = NewLoad
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		r.runs.forgetAll()
		return nil
	})); err != nil {
		return fmt.Errorf("add the drill traffic's stopper: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("failoverdrill").
		For(&v1alpha1.FailoverDrill{}).
		Watches(&v1alpha1.FederatedStatefulSet{}, handler.EnqueueRequestsFromMapFunc(r.drillsOf)).
		Complete(r)
}

// drillsOf maps a service to its drills.
func (r *Reconciler) drillsOf(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.FailoverDrillList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing the drills of a service", "service", client.ObjectKeyFromObject(o))
		return nil
	}
	var out []reconcile.Request
	for _, d := range list.Items {
		if d.Spec.Service == o.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&d)})
		}
	}
	return out
}

// Reconcile advances one drill by as many steps as it can: get, finalizer,
// the step (steps.go), then one status patch. Scope: the drill, its
// service's switchover annotation, the taints of the member clusters its
// run tainted and its traffic.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// From the API server: a cached drill may miss the status of the
	// previous step, and steps have effects outside the drill.
	var d v1alpha1.FailoverDrill
	if err := r.APIReader.Get(ctx, req.NamespacedName, &d); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get FailoverDrill %s: %w", req.NamespacedName, err)
	}
	if !d.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &d)
	}
	if controllerutil.AddFinalizer(&d, Finalizer) {
		if err := r.Client.Update(ctx, &d); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to FailoverDrill %s: %w", req.NamespacedName, err)
		}
	}
	before := d.DeepCopy()
	res, err := r.advance(ctx, &d)
	if !equality.Semantic.DeepEqual(before.Status, d.Status) {
		patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
		if perr := r.Client.Status().Patch(ctx, &d, patch); apierrors.IsConflict(perr) && err == nil {
			return ctrl.Result{RequeueAfter: r.Config.PollInterval}, nil // the step runs again on the new object
		} else if perr != nil {
			return ctrl.Result{}, errors.Join(err, fmt.Errorf("patch status of FailoverDrill %s: %w", req.NamespacedName, perr))
		}
		if before.Status.Step != v1alpha1.DrillStepDone && d.Status.Step == v1alpha1.DrillStepDone && d.Status.Verdict != "" {
			observeRun(&d)
		}
	}
	return res, err
}

// finalize removes what a deleted drill's run changed in the member
// clusters, stops its traffic and lets the drill go. A primary it moved
// stays where it is.
func (r *Reconciler) finalize(ctx context.Context, d *v1alpha1.FailoverDrill) error {
	if !controllerutil.ContainsFinalizer(d, Finalizer) {
		return nil
	}
	if _, err := r.untaint(ctx, d); err != nil {
		return err
	}
	r.runs.forget(d.UID)
	controllerutil.RemoveFinalizer(d, Finalizer)
	if err := r.Client.Update(ctx, d); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer of FailoverDrill %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}
