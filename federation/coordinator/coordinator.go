package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
)

// Promoter commits promotion transactions; *coord.Store is the one to
// use, tests wrap it.
type Promoter interface {
	// Promote commits one promotion as coord.Store.Promote does. It may
	// block up to the store's request timeout and must be safe for
	// concurrent use.
	Promote(ctx context.Context, req coord.PromoteRequest) (coord.PromoteResult, error)
}

// Suspicions tells whether the gossip pool declares a member cluster
// dead; members.AgentMonitor is the one to use.
type Suspicions interface {
	// ClusterSuspected returns a note and true when gossip declares every
	// agent of cluster dead with other members' corroboration. It must
	// not block and must be safe for concurrent use.
	ClusterSuspected(cluster string) (note string, suspected bool)
}

// Coordinator is the hub's failover coordinator and DNS publisher. Set the
// exported fields, then call SetupWithManager. It acts only while the hub
// leads both in the hub cluster (controller-runtime's leader election) and
// in the federation etcd (coord.Store.Campaign), and every etcd write it
// makes compares its etcd tenure.
type Coordinator struct {
	// Client reads services and member clusters (from the manager's
	// cache) and writes services' status.
	Client client.Client
	// APIReader confirms with the API server that a service is gone
	// before its coordination state is forgotten.
	APIReader client.Reader
	// Store is the federation etcd.
	Store *coord.Store
	// Promoter commits promotions; nil uses Store.
	Promoter Promoter
	// DNS builds the DNS records; its prefix must be Config.DNSPrefix.
	DNS *dnsserver.Writer
	// Recorder records events on services.
	Recorder events.EventRecorder
	// Suspicions, when set, lets the coordinator warn (event
	// PrimaryClusterSuspected) when gossip declares a primary's cluster
	// dead while the primary still holds its lease. It never promotes on
	// it: promotions wait for the lease to expire.
	Suspicions Suspicions
	// Config tunes the coordinator.
	Config Config

	mu       sync.Mutex
	services map[types.NamespacedName]*service
	ten      *tenure
}

// SetupWithManager checks the dependencies and adds the coordinator to
// mgr: a controller that tracks FederatedStatefulSets and MemberClusters,
// and a runnable that campaigns for the etcd leadership and coordinates
// the services while it holds it.
func (c *Coordinator) SetupWithManager(mgr ctrl.Manager) error {
	errs := []error{c.Config.Validate()}
	if c.Client == nil {
		errs = append(errs, errors.New("coordinator: Client is nil"))
	}
	if c.APIReader == nil {
		errs = append(errs, errors.New("coordinator: APIReader is nil"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("coordinator: Store is nil"))
	}
	if c.DNS == nil {
		errs = append(errs, errors.New("coordinator: DNS is nil"))
	}
	if c.Recorder == nil {
		errs = append(errs, errors.New("coordinator: Recorder is nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.Promoter == nil {
		c.Promoter = c.Store
	}
	c.services = map[types.NamespacedName]*service{}
	if err := mgr.Add(manager.RunnableFunc(c.lead)); err != nil {
		return fmt.Errorf("add the failover leadership: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("failover").
		For(&v1alpha1.FederatedStatefulSet{}).
		Watches(&v1alpha1.MemberCluster{}, handler.EnqueueRequestsFromMapFunc(c.everyService)).
		Complete(c)
}

// Reconcile keeps track of one service: a service in PrimaryReplica mode
// gets a coordination session (and is nudged to look at its object
// again); any other has its DNS records published here; a deleted one has
// its coordination state and DNS records removed. Scope: the service's
// object, its keys in the federation etcd and its DNS records.
func (c *Coordinator) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if err := coordService(req.NamespacedName).Validate(); err != nil {
		// Neither etcd keys nor DNS names can carry it.
		ctrl.LoggerFrom(ctx).V(1).Info("Not coordinating a service whose name is not a DNS label", "reason", err.Error())
		return ctrl.Result{}, nil
	}
	var fss v1alpha1.FederatedStatefulSet
	err := c.Client.Get(ctx, req.NamespacedName, &fss)
	switch {
	case apierrors.IsNotFound(err):
		if ended := c.track(req.NamespacedName, false); ended != nil {
			select { // its last writes land before the keys are removed
			case <-ended:
			case <-ctx.Done():
				return ctrl.Result{}, ctx.Err()
			}
		}
		return c.forget(ctx, req.NamespacedName)
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("get FederatedStatefulSet %s: %w", req.NamespacedName, err)
	case primaryReplicas(&fss):
		c.track(req.NamespacedName, true)
		return ctrl.Result{}, nil
	}
	c.track(req.NamespacedName, false)
	return c.publishPlain(ctx, &fss)
}

// everyService enqueues every service, for a change of a member cluster.
func (c *Coordinator) everyService(ctx context.Context, _ client.Object) []ctrl.Request {
	var list v1alpha1.FederatedStatefulSetList
	if err := c.Client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List services for a member cluster change")
		return nil
	}
	out := make([]ctrl.Request, 0, len(list.Items))
	for _, s := range list.Items {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
	}
	return out
}

// coordService names a service in the federation etcd.
func coordService(key types.NamespacedName) coord.Service {
	return coord.Service{Namespace: key.Namespace, Name: key.Name}
}
