package members

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"github.com/fedstate/fedstate/config"
)

// discoveryTimeout bounds the discovery requests behind the member's REST
// mapper, which client-go issues without a context.
const discoveryTimeout = 30 * time.Second

// member is one connected member cluster: its cache and clients, the
// goroutines that run them, and the latest health snapshot.
type member struct {
	name string
	// hash identifies the kubeconfig the member was connected with.
	hash    string
	cluster cluster.Cluster
	// client is handed out by Registry.Client; probe is an unthrottled
	// REST client for /readyz and /version, so that a busy rate limiter
	// never fails a probe.
	client client.Client
	// direct always asks the API server (Registry.LiveReader).
	direct client.Client
	probe  rest.Interface
	health atomic.Pointer[health]
	// cancel stops the member's goroutines; done is closed when they
	// ended.
	cancel context.CancelFunc
	done   chan struct{}
}

// newMember builds a member's cache and clients, logging to log. It does
// no I/O: the REST mapper and the cache reach the API server only once used
// or started.
func newMember(log logr.Logger, name string, rc *rest.Config, hash string, cfg config.Members, scheme *runtime.Scheme) (*member, error) {
	rc = rest.CopyConfig(rc)
	rc.QPS, rc.Burst = cfg.QPS, cfg.Burst
	// One limiter for every client of the member, so QPS bounds the
	// member's traffic, not each resource's.
	rc.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)
	rc.UserAgent = "fedstate-hub"
	opts, err := cacheOptions()
	if err != nil {
		return nil, err
	}
	cl, err := cluster.New(rc, func(o *cluster.Options) {
		o.Scheme, o.Cache, o.Logger = scheme, opts, log
		o.MapperProvider = func(c *rest.Config, hc *http.Client) (meta.RESTMapper, error) {
			bounded := *hc
			bounded.Timeout = discoveryTimeout
			return apiutil.NewDynamicRESTMapper(c, &bounded)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("member %s: build cluster: %w", name, err)
	}
	direct, err := client.New(rc, client.Options{HTTPClient: cl.GetHTTPClient(), Scheme: scheme, Mapper: cl.GetRESTMapper()})
	if err != nil {
		return nil, fmt.Errorf("member %s: build client: %w", name, err)
	}
	pc := rest.CopyConfig(rc)
	pc.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(pc, cl.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("member %s: build probe client: %w", name, err)
	}
	m := &member{
		name: name, hash: hash, cluster: cl, probe: dc.RESTClient(),
		client: &memberClient{Client: direct, cache: cl.GetCache()},
		direct: direct,
		done:   make(chan struct{}),
	}
	m.health.Store(&health{})
	return m, nil
}

// run runs the member's cache, its event forwarding and its probe loop
// until ctx ends, then drops the member's metrics and closes m.done.
func (m *member) run(ctx context.Context, r *Registry) {
	defer close(m.done)
	defer forgetMetrics(m.name)
	log := ctrl.LoggerFrom(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		if err := m.cluster.Start(ctx); err != nil {
			log.Error(err, "Member cache stopped")
		}
	})
	wg.Go(func() { m.forward(ctx, r.emit, r.cfg.ProbeInterval) })
	r.probeLoop(ctx, m)
}

// forward registers event handlers on the member's informers for the
// watched types, retrying every interval until each is registered (the
// informer needs the member's API server to map its kind), and hands every
// added, updated and deleted object to emit.
func (m *member) forward(ctx context.Context, emit func(context.Context, client.Object), interval time.Duration) {
	log := ctrl.LoggerFrom(ctx)
	todo := watchedTypes()
	for {
		var left []client.Object
		for _, obj := range todo {
			if err := m.watch(ctx, obj, emit); err != nil {
				log.V(1).Info("Cannot watch member objects yet", "kind", fmt.Sprintf("%T", obj), "error", err.Error())
				left = append(left, obj)
			}
		}
		if todo = left; len(todo) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// watch adds a handler passing the objects of obj's kind to emit.
func (m *member) watch(ctx context.Context, obj client.Object, emit func(context.Context, client.Object)) error {
	inf, err := m.cluster.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("informer: %w", err)
	}
	send := func(o any) {
		if tomb, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
			o = tomb.Obj
		}
		if co, ok := o.(client.Object); ok {
			emit(ctx, co)
		}
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    send,
		UpdateFunc: func(_, o any) { send(o) },
		DeleteFunc: send,
	})
	if err != nil {
		return fmt.Errorf("add event handler: %w", err)
	}
	return nil
}
