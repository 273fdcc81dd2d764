package drill_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill"
	"github.com/fedstate/fedstate/federation/drill/load"
)

// fakeTraffic is client traffic without a database: a write acknowledged
// every 100 ms while it runs, and Verify answers missing.
type fakeTraffic struct {
	cfg     load.Config
	missing []int64

	mu       sync.Mutex
	start    time.Time
	end      time.Time
	verified []netip.AddrPort
}

func (f *fakeTraffic) Run(ctx context.Context) error {
	f.mu.Lock()
	f.start = time.Now()
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.end = time.Now()
	f.mu.Unlock()
	return nil
}

// bounds are the run's start and end (now while it runs).
func (f *fakeTraffic) bounds() (time.Time, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := f.end
	if end.IsZero() {
		end = time.Now()
	}
	return f.start, end
}

func (f *fakeTraffic) Ops() []load.Op {
	start, end := f.bounds()
	var ops []load.Op
	for t, id := start, int64(1); t.Add(10 * time.Millisecond).Before(end); t, id = t.Add(100*time.Millisecond), id+1 {
		ops = append(ops, load.Op{Kind: load.Write, ID: id, Invoke: t, Return: t.Add(10 * time.Millisecond), Outcome: load.OK})
	}
	return ops
}

func (f *fakeTraffic) Snapshot() load.Snapshot {
	start, end := f.bounds()
	return load.Analyze(f.Ops(), start, end, 0)
}

func (f *fakeTraffic) Verify(_ context.Context, addr netip.AddrPort) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verified = append(f.verified, addr)
	return f.missing, nil
}

// env is one test's namespace, service and controller.
type env struct {
	t         *testing.T
	ns        string
	reportDir string

	mu      sync.Mutex
	traffic []*fakeTraffic
}

// newEnv creates a namespace with a service db in PrimaryReplica mode
// whose primary db-0 runs in eu-1, and starts a manager with the drill
// controller; traffic is fake.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ns: "drill-" + rand.String(6), reportDir: t.TempDir()}
	if err := hubc.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	fss := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: e.ns},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas: 3,
			Ports:    []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:15"}}},
			}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL, SyncReplicas: 1},
		},
	}
	if err := hubc.Create(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	fss.Status.Primary = &v1alpha1.PrimaryStatus{Ordinal: 0, Cluster: "eu-1", Epoch: 1}
	fss.Status.ReplicaStatuses = []v1alpha1.ReplicaStatus{
		{Ordinal: 0, Cluster: "eu-1", PodIP: "10.1.0.1", Ready: true, Role: v1alpha1.RolePrimary},
		{Ordinal: 1, Cluster: "us-1", PodIP: "10.2.0.1", Ready: true, Role: v1alpha1.RoleSyncStandby, LagBytes: ptr.To[int64](0)},
		{Ordinal: 2, Cluster: "ap-1", PodIP: "10.3.0.1", Ready: true, Role: v1alpha1.RoleAsyncReplica, LagBytes: ptr.To[int64](4096)},
	}
	fss.Status.FailoverHistory = []v1alpha1.FailoverRecord{{Reason: "Bootstrap", Epoch: 1, ToOrdinal: 0, Time: metav1.Now()}}
	if err := hubc.Status().Update(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	e.startController()
	return e
}

// startController runs a manager with the drill controller until the
// test ends; drills left are deleted while it runs.
func (e *env) startController() {
	t := e.t
	mgr, err := ctrl.NewManager(hubRC, ctrl.Options{
		Scheme: scheme, Logger: testLogs,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := drill.DefaultConfig()
	cfg.ReportDir, cfg.PollInterval, cfg.WaitInterval = e.reportDir, 100*time.Millisecond, 200*time.Millisecond
	r := &drill.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("fedstate-hub"), Config: cfg,
		NewTraffic: func(c load.Config) (drill.Traffic, error) {
			if err := c.Validate(); err != nil {
				return nil, err
			}
			f := &fakeTraffic{cfg: c}
			e.mu.Lock()
			e.traffic = append(e.traffic, f)
			e.mu.Unlock()
			return f, nil
		}}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	t.Cleanup(func() {
		defer func() { cancel(); <-done }()
		ctx, stop := context.WithTimeout(context.Background(), timeout)
		defer stop()
		if err := hubc.DeleteAllOf(ctx, &v1alpha1.FailoverDrill{}, client.InNamespace(e.ns)); err != nil {
			t.Error(err)
			return
		}
		eventually(t, timeout, "drills finalized", func() error {
			var list v1alpha1.FailoverDrillList
			if err := hubc.List(ctx, &list, client.InNamespace(e.ns)); err != nil {
				return err
			}
			if len(list.Items) > 0 {
				return errors.New("drills remain")
			}
			return nil
		})
	})
}

// createDrill creates a drill of service db.
func (e *env) createDrill(name string, spec v1alpha1.FailoverDrillSpec) *v1alpha1.FailoverDrill {
	e.t.Helper()
	spec.Service = "db"
	d := &v1alpha1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns}, Spec: spec}
	if err := hubc.Create(e.t.Context(), d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// drill reads a drill.
func (e *env) drill(name string) *v1alpha1.FailoverDrill {
	e.t.Helper()
	var d v1alpha1.FailoverDrill
	if err := hubc.Get(e.t.Context(), client.ObjectKey{Namespace: e.ns, Name: name}, &d); err != nil {
		e.t.Fatal(err)
	}
	return &d
}

// service reads the service.
func (e *env) service() *v1alpha1.FederatedStatefulSet {
	e.t.Helper()
	var fss v1alpha1.FederatedStatefulSet
	if err := hubc.Get(e.t.Context(), client.ObjectKey{Namespace: e.ns, Name: "db"}, &fss); err != nil {
		e.t.Fatal(err)
	}
	return &fss
}

// waitRequest waits for the switchover annotation to carry id and
// returns its target.
func (e *env) waitRequest(id string) string {
	e.t.Helper()
	var to string
	eventually(e.t, timeout, "switchover request "+id, func() error {
		v := e.service().Annotations[v1alpha1.AnnotationSwitchover]
		prefix := "id=" + id + ",to="
		if !strings.HasPrefix(v, prefix) {
			return errors.New("annotation is " + v)
		}
		to = strings.TrimPrefix(v, prefix)
		return nil
	})
	return to
}

// answer writes the coordinator's answer to request id in the service's
// status: its phase, and with mutate whatever else changes with it.
func (e *env) answer(id string, phase v1alpha1.RequestPhase, epoch int64, msg string, mutate func(*v1alpha1.FederatedStatefulSet)) {
	e.t.Helper()
	fss := e.service()
	meta.SetStatusCondition(&fss.Status.Conditions, metav1.Condition{Type: v1alpha1.ServiceFailingOver, Status: metav1.ConditionFalse, Reason: "PrimaryHealthy"})
	fss.Status.Requests = []v1alpha1.RequestStatus{{Kind: v1alpha1.RequestSwitchover, ID: id, Phase: phase, Epoch: epoch, Message: msg, Time: metav1.Now()}}
	if mutate != nil {
		mutate(fss)
	}
	if err := hubc.Status().Update(e.t.Context(), fss); err != nil {
		e.t.Fatal(err)
	}
}

// requestedAt waits for the drill's n-th request (from 0) in its status
// and returns when it was made, no later than 50 ms ago.
func (e *env) requestedAt(name string, n int) time.Time {
	e.t.Helper()
	var at time.Time
	e.waitDrill(name, fmt.Sprintf("request %d recorded", n), func(d *v1alpha1.FailoverDrill) error {
		if len(d.Status.Requests) <= n {
			return fmt.Errorf("%d requests", len(d.Status.Requests))
		}
		at = d.Status.Requests[n].RequestedAt.Time
		return nil
	})
	<-time.After(time.Until(at.Add(50 * time.Millisecond))) // the phases below end by then
	return at
}

// switchedTo makes ordinal in cluster the primary of epoch, switched over
// as the coordinator records it, its phases 10 ms apart from requested.
func switchedTo(ordinal int32, cluster string, epoch int64, requested time.Time) func(*v1alpha1.FederatedStatefulSet) {
	return func(fss *v1alpha1.FederatedStatefulSet) {
		now := requested.Add(50 * time.Millisecond)
		mt := func(ago time.Duration) *metav1.MicroTime { m := metav1.NewMicroTime(now.Add(-ago)); return &m }
		from := fss.Status.Primary.Ordinal
		fss.Status.Primary = &v1alpha1.PrimaryStatus{Ordinal: ordinal, Cluster: cluster, Epoch: epoch}
		for i := range fss.Status.ReplicaStatuses {
			rs := &fss.Status.ReplicaStatuses[i]
			switch rs.Ordinal {
			case ordinal:
				rs.Role, rs.LagBytes = v1alpha1.RolePrimary, nil
			case from:
				rs.Role, rs.LagBytes = v1alpha1.RoleSyncStandby, ptr.To[int64](0)
			}
		}
		rec := v1alpha1.FailoverRecord{Reason: "Switchover", FromOrdinal: &from, ToOrdinal: ordinal, Epoch: epoch, Time: metav1.NewTime(now),
			DataLossBytes: ptr.To[int64](0), RTO: &metav1.Duration{Duration: 40 * time.Millisecond},
			DetectedAt: mt(40 * time.Millisecond), FencedAt: mt(30 * time.Millisecond), CommittedAt: mt(20 * time.Millisecond),
			PromotedAt: mt(10 * time.Millisecond), PublishedAt: mt(0)}
		fss.Status.FailoverHistory = append([]v1alpha1.FailoverRecord{rec}, fss.Status.FailoverHistory...)
	}
}

// waitDrill waits until check accepts the drill.
func (e *env) waitDrill(name, what string, check func(*v1alpha1.FailoverDrill) error) *v1alpha1.FailoverDrill {
	e.t.Helper()
	var d *v1alpha1.FailoverDrill
	eventually(e.t, timeout, what, func() error {
		d = e.drill(name)
		return check(d)
	})
	return d
}

// drillTaints are the drill taints of a member cluster.
func drillTaints(t *testing.T, cluster string) []v1alpha1.Taint {
	t.Helper()
	var mc v1alpha1.MemberCluster
	if err := hubc.Get(t.Context(), client.ObjectKey{Name: cluster}, &mc); err != nil {
		t.Fatal(err)
	}
	var out []v1alpha1.Taint
	for _, tn := range mc.Spec.Taints {
		if tn.Key == v1alpha1.TaintDrill {
			out = append(out, tn)
		}
	}
	return out
}

// eventually polls check every 50 ms until it returns nil, failing the
// test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		<-time.After(50 * time.Millisecond) // also in cleanups, after t.Context ended
	}
}
