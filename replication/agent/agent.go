package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
)

// Agent is the member agent of one cluster. Create it with New and run it
// with Run.
type Agent struct {
	cfg       Config
	store     *coord.Store
	kube      kubernetes.Interface
	newDriver NewDriver
	log       *slog.Logger
	m         *metrics

	pods corelisters.PodLister
	sets appslisters.StatefulSetLister

	mu      sync.Mutex
	session *coord.Agent
	workers map[replicaKey]*worker
	wg      sync.WaitGroup
}

// replicaKey names one replica of one service.
type replicaKey struct {
	svc coord.Service
	n   int
}

// New returns an agent for cfg that coordinates through store, reads its
// member cluster through kube (pods, persistent volumes and the hub's
// StatefulSet slices) and runs each replica's server with newDriver.
// Metrics are registered with reg when it is not nil.
func New(cfg Config, store *coord.Store, kube kubernetes.Interface, newDriver NewDriver, log *slog.Logger, reg prometheus.Registerer) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent configuration: %w", err)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Agent{
		cfg: cfg, store: store, kube: kube, newDriver: newDriver, m: m,
		log:     log.With("agent", cfg.name(), "cluster", cfg.Cluster),
		workers: map[replicaKey]*worker{},
	}, nil
}

// Run serves until ctx ends. It keeps the agent's etcd session, follows the
// commands of the replicas placed in its cluster and runs one worker per
// replica. When ctx ends it stops the workers and abandons its session and
// primary leases without releasing them, and leaves the servers running: a
// restart within the lease TTL takes everything over; otherwise the leases
// expire, and the fence watchdogs stop writable primaries first.
func (a *Agent) Run(ctx context.Context) error {
	sel := func(o *metav1.ListOptions) { o.LabelSelector = v1alpha1.LabelService }
	factory := informers.NewSharedInformerFactoryWithOptions(a.kube, 0, informers.WithTweakListOptions(sel))
	podInformer := factory.Core().V1().Pods()
	a.pods, a.sets = podInformer.Lister(), factory.Apps().V1().StatefulSets().Lister()
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.podChanged,
		UpdateFunc: func(_, obj any) { a.podChanged(obj) },
		DeleteFunc: a.podChanged,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("member cluster %s: %v cache not synced: %w", a.cfg.Cluster, typ, context.Cause(ctx))
		}
	}
	a.log.Info("Agent started", "volumes", a.cfg.VolumesDir, "run", a.cfg.RunDir)

	var sessionDone sync.WaitGroup
	sessionDone.Add(1)
	go func() { defer sessionDone.Done(); a.keepSession(ctx) }()
	for ctx.Err() == nil {
		if err := a.follow(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("Following the commands failed; listing them again", "err", err)
			sleep(ctx, time.Second)
		}
	}
	a.wg.Wait()
	sessionDone.Wait()
	a.mu.Lock()
	if a.session != nil {
		a.session.Abandon()
	}
	a.mu.Unlock()
	a.log.Info("Agent stopped; servers and leases left for the next run")
	return nil
}

// keepSession keeps an etcd session open, starting (or taking over) one
// whenever there is none.
func (a *Agent) keepSession(ctx context.Context) {
	for ctx.Err() == nil {
		s, err := a.store.StartAgent(ctx, a.cfg.name(), a.cfg.Cluster)
		if err != nil {
			a.log.Warn("Cannot open the agent's etcd session; retrying", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		a.m.sessions.Inc()
		a.m.sessionLive.Set(1)
		a.log.Info("Agent session open", "lease", fmt.Sprintf("%x", int64(s.Lease())))
		a.mu.Lock()
		a.session = s
		a.mu.Unlock()
		a.nudgeAll()
		select {
		case <-s.Done():
			a.m.sessionLive.Set(0)
			a.log.Warn("Agent session ended; opening a new one", "err", s.Err())
			a.mu.Lock()
			a.session = nil
			a.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// sess returns the live session, or nil.
func (a *Agent) sess() *coord.Agent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.session
}

// follow lists the commands of this cluster's replicas, starts their
// workers and follows changes until the watch breaks or ctx ends.
func (a *Agent) follow(ctx context.Context) error {
	cmds, rev, err := a.store.CommandsFor(ctx, a.cfg.Cluster)
	if err != nil {
		return err
	}
	for svc, ns := range cmds {
		for _, n := range ns {
			a.ensureWorker(ctx, replicaKey{svc, n})
		}
	}
	a.nudgeAll() // workers whose command went away while the watch was down
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for wr := range a.store.Watch(wctx, rev+1) {
		if wr.Err != nil {
			return wr.Err
		}
		for _, ev := range wr.Events {
			k := ev.Key
			svc := coord.Service{Namespace: k.Namespace, Name: k.Service}
			switch k.Kind {
			case coord.KindCommand:
				if !ev.Deleted {
					if c, err := coord.DecodeCommand(ev.Value); err == nil && c.Cluster == a.cfg.Cluster {
						a.ensureWorker(ctx, replicaKey{svc, k.Replica})
						continue
					}
				}
				a.nudge(replicaKey{svc, k.Replica})
			case coord.KindEpoch, coord.KindPrimary, coord.KindLease:
				a.nudgeService(svc)
			}
		}
	}
	return ctx.Err()
}

// ensureWorker nudges the worker of r, starting it first if there is none.
func (a *Agent) ensureWorker(ctx context.Context, r replicaKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w, ok := a.workers[r]; ok {
		w.poke()
		return
	}
	w := newWorker(a, r)
	a.workers[r] = w
	a.m.replicas.Set(float64(len(a.workers)))
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		w.run(ctx)
	}()
}

// retire removes w unless it was nudged meanwhile; it reports whether w
// must stop.
func (a *Agent) retire(w *worker) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-w.nudge:
		return false
	default:
	}
	delete(a.workers, w.key)
	a.m.replicas.Set(float64(len(a.workers)))
	return true
}

func (a *Agent) nudge(r replicaKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w, ok := a.workers[r]; ok {
		w.poke()
	}
}

func (a *Agent) nudgeService(svc coord.Service) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, w := range a.workers {
		if k.svc == svc {
			w.poke()
		}
	}
}

func (a *Agent) nudgeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.workers {
		w.poke()
	}
}

// podChanged nudges the worker of a pod's replica.
func (a *Agent) podChanged(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	svc := pod.Labels[v1alpha1.LabelService]
	n, ok := ordinalOf(svc, pod.Name)
	if !ok {
		return
	}
	a.nudge(replicaKey{coord.Service{Namespace: pod.Namespace, Name: svc}, n})
}

// ordinalOf returns n for a pod called "<svc>-<n>".
func ordinalOf(svc, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, svc+"-")
	if !ok {
		return 0, false
	}
	return dnsserver.ParseOrdinal(rest)
}

// replicaName is the name of replica n of svc: its pod's name.
func replicaName(svc string, n int) string { return svc + "-" + strconv.Itoa(n) }

// pod returns the running pod of r with its address, or nil.
func (a *Agent) pod(r replicaKey) *corev1.Pod {
	pod, err := a.pods.Pods(r.svc.Namespace).Get(replicaName(r.svc.Name, r.n))
	if err != nil || pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
		return nil
	}
	return pod
}

// replicaSpec says where the server of pod lives: its data in the pod's
// first persistent volume with a local path (<path>/pgdata), else under
// VolumesDir.
func (a *Agent) replicaSpec(ctx context.Context, pod *corev1.Pod) (ReplicaSpec, error) {
	ip, err := netip.ParseAddr(pod.Status.PodIP)
	if err != nil {
		return ReplicaSpec{}, fmt.Errorf("pod %s/%s address %q: %w", pod.Namespace, pod.Name, pod.Status.PodIP, err)
	}
	spec := ReplicaSpec{
		Name:    pod.Name,
		DataDir: filepath.Join(a.cfg.VolumesDir, pod.Namespace, pod.Name, "pgdata"),
		RunDir:  filepath.Join(a.cfg.RunDir, pod.Namespace+"."+pod.Name),
		Listen:  ip, Port: a.cfg.Port,
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		pvc, err := a.kube.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, v.PersistentVolumeClaim.ClaimName, metav1.GetOptions{})
		if err != nil {
			return ReplicaSpec{}, fmt.Errorf("volume of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		if pvc.Spec.VolumeName == "" {
			return ReplicaSpec{}, fmt.Errorf("volume of pod %s/%s: claim %s is not bound yet", pod.Namespace, pod.Name, pvc.Name)
		}
		pv, err := a.kube.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			return ReplicaSpec{}, fmt.Errorf("volume of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		switch {
		case pv.Spec.HostPath != nil:
			spec.DataDir = filepath.Join(pv.Spec.HostPath.Path, "pgdata")
		case pv.Spec.Local != nil:
			spec.DataDir = filepath.Join(pv.Spec.Local.Path, "pgdata")
		default:
			continue
		}
		break
	}
	return spec, nil
}

// dnsRecords returns the DNS replica records of svc by ordinal: where
// each replica runs and its address.
func (a *Agent) dnsRecords(ctx context.Context, svc coord.Service) (map[int]dnsserver.Replica, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	prefix := dnsserver.ServicePrefix(a.cfg.DNSPrefix, svc.Namespace, svc.Name)
	resp, err := a.store.Client().Get(rctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("DNS records of %s: %w", svc, err)
	}
	out := map[int]dnsserver.Replica{}
	for _, kv := range resp.Kvs {
		k, err := dnsserver.ParseEtcdKey(a.cfg.DNSPrefix, string(kv.Key))
		if err != nil || k.Kind != dnsserver.KindReplica {
			continue
		}
		if r, err := dnsserver.DecodeReplica(kv.Value); err == nil {
			out[k.Ordinal] = r
		}
	}
	return out, nil
}

// replication reads how svc's primary must replicate from the annotation
// on its StatefulSet slice in this cluster: no synchronous standbys when
// there is none.
func (a *Agent) replication(svc coord.Service) (int32, v1alpha1.SyncReplicaScope) {
	sts, err := a.sets.StatefulSets(svc.Namespace).Get(svc.Name)
	if err != nil {
		return 0, v1alpha1.SyncAnywhere
	}
	n, scope, err := v1alpha1.ParseReplicationAnnotation(sts.Annotations[v1alpha1.AnnotationReplication])
	if err != nil {
		a.log.Warn("Unreadable replication annotation; replicating asynchronously", "service", svc, "err", err)
		return 0, v1alpha1.SyncAnywhere
	}
	return n, scope
}

// syncSpec is the replication setup of replica self of svc as primary:
// every other replica with a DNS record is a standby; those in the
// annotation's scope may confirm commits, syncReplicas of them at once
// (fewer when fewer are in scope).
func syncSpec(svc string, self int, records map[int]dnsserver.Replica, syncReplicas int32, scope v1alpha1.SyncReplicaScope) SyncSpec {
	var spec SyncSpec
	own := records[self].Region
	for _, n := range sortedKeys(records) {
		if n == self {
			continue
		}
		name := replicaName(svc, n)
		spec.Standbys = append(spec.Standbys, name)
		r := records[n]
		if scope == v1alpha1.SyncAnywhere || (scope == v1alpha1.SyncSameRegion) == (r.Region == own) {
			spec.Synchronous = append(spec.Synchronous, name)
		}
	}
	spec.Quorum = min(int(syncReplicas), len(spec.Synchronous))
	if spec.Quorum == 0 {
		spec.Synchronous = nil
	}
	return spec
}

func sortedKeys[V any](m map[int]V) []int { return slices.Sorted(maps.Keys(m)) }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errNoSession: the agent has no etcd session right now.
var errNoSession = errors.New("no etcd session")
