package coordinator_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/coordinator"
	"github.com/fedstate/fedstate/replication/coord"
)

// clusters are the member clusters every test uses: one per region.
var clusters = []struct{ name, region string }{
	{"eu-1", "eu-west"}, {"us-1", "us-east"}, {"ap-1", "ap-south"},
}

// createMembers creates the MemberClusters, reachable and ready. Nothing
// probes them in these tests: their status stays as written.
func createMembers(ctx context.Context) error {
	for _, c := range clusters {
		mc := &v1alpha1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: c.name},
			Spec: v1alpha1.MemberClusterSpec{Region: c.region,
				KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: "fedstate-system", Name: c.name}},
		}
		if err := hubc.Create(ctx, mc); err != nil {
			return fmt.Errorf("create MemberCluster %s: %w", c.name, err)
		}
		now := metav1.Now()
		for _, t := range []string{v1alpha1.MemberReady, v1alpha1.MemberReachable} {
			meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{Type: t, Status: metav1.ConditionTrue,
				Reason: v1alpha1.ReasonProbeSucceeded, LastTransitionTime: now})
		}
		if err := hubc.Status().Update(ctx, mc); err != nil {
			return fmt.Errorf("status of MemberCluster %s: %w", c.name, err)
		}
	}
	return nil
}

// env is one test's federation: its namespace in the hub, its prefixes in
// the federation etcd and a store to look at etcd with.
type env struct {
	t          *testing.T
	ns         string
	coordPfx   string
	dnsPfx     string
	store      *coord.Store
	leaseTTL   time.Duration
	primaryKey string
	// setup, when set, adds to each hub's manager what the test needs
	// beside the coordinator, before the coordinator is set up.
	setup func(mgr ctrl.Manager, c *coordinator.Coordinator)
}

// newEnv prepares a test's namespace and etcd prefixes.
func newEnv(t *testing.T) *env {
	t.Helper()
	// Unique per run: the API server and etcd outlive a run (-count=2).
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-", "test", "").Replace(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	name = strings.Trim(name, "-") + "-" + rand.String(5)
	e := &env{t: t, ns: name, coordPfx: "/test/" + name + "/coord/", dnsPfx: "/test/" + name + "/dns/", leaseTTL: 2 * time.Second}
	e.primaryKey = dnsserver.Key{Namespace: e.ns, Service: "db", Kind: dnsserver.KindPrimary}.EtcdKey(e.dnsPfx)
	if err := hubc.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	e.store = e.connect(t, etcdURL)
	t.Cleanup(func() { // after the hubs and agents stopped
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := e.store.Client().Delete(ctx, "/test/"+e.ns+"/", clientv3.WithPrefix()); err != nil {
			t.Error(err)
		}
		if err := hubc.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
			t.Error(err)
		}
	})
	return e
}

// coordConfig is the etcd configuration of the test's hubs and agents:
// short leases so that failovers happen within seconds.
func (e *env) coordConfig(endpoint string) coord.Config {
	cfg := coord.DefaultConfig()
	cfg.Endpoints = []string{endpoint}
	cfg.Prefix = e.coordPfx
	cfg.LeaseTTL, cfg.LeaderTTL = e.leaseTTL, 2*time.Second
	cfg.RenewInterval, cfg.RequestTimeout, cfg.DialTimeout = 100*time.Millisecond, 900*time.Millisecond, 5*time.Second
	cfg.Logger = zap.NewNop()
	return cfg
}

// connect opens a store on endpoint, closed at the end of the test.
func (e *env) connect(t *testing.T, endpoint string) *coord.Store {
	t.Helper()
	st, err := coord.Connect(t.Context(), e.coordConfig(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// hubProc is one hub replica running the coordinator in-process.
type hubProc struct {
	stop func()
	done chan struct{}
}

// startHub runs a manager with a coordinator, as fedstate hub does, with
// id as its etcd candidate name; promoter, when set, wraps the store's
// Promote. stop ends it and waits.
func (e *env) startHub(t *testing.T, id string, promoter func(coordinator.Promoter) coordinator.Promoter) *hubProc {
	t.Helper()
	mgr, err := ctrl.NewManager(hubRC, ctrl.Options{
		Scheme: scheme, Logger: testLogs,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Several hubs run in one process over the package's tests; each
		// sees its own test's services only.
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{e.ns: {}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	store := e.connect(t, etcdURL)
	wcfg := dnsserver.DefaultWriterConfig()
	wcfg.Prefix = e.dnsPfx
	w, err := dnsserver.NewWriter(wcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := coordinator.DefaultConfig()
	cfg.ID, cfg.DNSPrefix, cfg.TickInterval, cfg.StepTimeout = id, e.dnsPfx, 200*time.Millisecond, 30*time.Second
	c := &coordinator.Coordinator{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Store: store, DNS: w,
		Recorder: mgr.GetEventRecorder("fedstate-hub"), Config: cfg}
	if promoter != nil {
		c.Promoter = promoter(store)
	}
	if e.setup != nil {
		e.setup(mgr, c)
	}
	if err := c.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &hubProc{done: make(chan struct{})}
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			<-h.done
		})
	}
	go func() {
		defer close(h.done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("hub %s: %v", id, err)
		}
	}()
	t.Cleanup(h.stop)
	return h
}

// snapshot reads the service's coordination state.
func (e *env) snapshot() *coord.Snapshot {
	e.t.Helper()
	snap, err := e.store.Snapshot(e.t.Context(), coord.Service{Namespace: e.ns, Name: "db"})
	if err != nil {
		e.t.Fatal(err)
	}
	return snap
}

// dnsPrimary reads the DNS primary record and the revision it was last
// written at; nil when there is none.
func (e *env) dnsPrimary() (*dnsserver.Primary, int64) {
	e.t.Helper()
	resp, err := e.store.Client().Get(e.t.Context(), e.primaryKey)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0
	}
	p, err := dnsserver.DecodePrimary(resp.Kvs[0].Value)
	if err != nil {
		e.t.Fatal(err)
	}
	return &p, resp.Kvs[0].ModRevision
}
