package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
	"github.com/fedstate/fedstate/federation/statefulset"
)

// BenchmarkHub is make bench-hub: it runs the fedstate binary as the hub
// of a test bed with three members, creates BENCH_HUB_SERVICES (default
// 1,000) FederatedStatefulSets of 3 replicas and reports (a) the time
// until every slice is applied in the members, (b) the time until every
// service is Available and converged, (c) the hub's CPU seconds and peak
// memory, (d) its CPU use over a minute with nothing changing, and (e) the
// time to converge again after one member is tainted NoExecute.
func BenchmarkHub(b *testing.B) {
	services := 1000
	if s := os.Getenv("BENCH_HUB_SERVICES"); s != "" {
		var err error
		if services, err = strconv.Atoi(s); err != nil {
			b.Fatalf("BENCH_HUB_SERVICES=%q: %v", s, err)
		}
	}
	ctx := b.Context()
	ctrl.SetLogger(logr.Discard())
	bin := buildFedstate(b)
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		b.Fatal(err)
	}
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir = bins, b.TempDir()
	// A fake node takes 110 pods; each member runs one pod per service,
	// and two once a member is evacuated.
	cfg.NodesPerMember = 2*services/100 + 1
	bed, err := testbed.Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bed.Close() })
	hubRC, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		b.Fatal(err)
	}
	hubRC.QPS, hubRC.Burst = 500, 1000 // the benchmark's own client must not be what is measured
	if err := testbed.InstallCRDs(ctx, hubRC, filepath.Join(sourceRoot(b), "config", "crd", "bases")); err != nil {
		b.Fatal(err)
	}
	scheme, err := hub.Scheme()
	if err != nil {
		b.Fatal(err)
	}
	hubc, err := client.New(hubRC, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	memberc := map[string]client.Client{}
	for _, c := range bed.Clusters() {
		if c.Hub {
			continue
		}
		rc, err := bed.RESTConfig(c.Name)
		if err != nil {
			b.Fatal(err)
		}
		rc.QPS, rc.Burst = 200, 400 // as the hub's member clients (config members.qps, burst)
		if _, err := membership.Join(ctx, hubc, rc, membership.Options{Name: c.Name, Region: c.Region, Zone: c.Zone}); err != nil {
			b.Fatal(err)
		}
		if memberc[c.Name], err = client.New(rc, client.Options{Scheme: scheme}); err != nil {
			b.Fatal(err)
		}
	}
	hubCluster, err := bed.Cluster(testbed.HubName)
	if err != nil {
		b.Fatal(err)
	}
	metricsAddr := freeAddress(b)
	pid := startHub(b, bin, hubCluster.Kubeconfig, metricsAddr)
	waitFor(b, 60*time.Second, "members ready", func() error {
		var list v1alpha1.MemberClusterList
		if err := hubc.List(ctx, &list); err != nil {
			return err
		}
		for _, mc := range list.Items {
			if !meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberReady) {
				return fmt.Errorf("%s not ready", mc.Name)
			}
		}
		return nil
	})

	ns := "bench"
	if err := hubc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuSeconds(b, pid)
	start := time.Now()
	createServices(b, hubc, ns, services)
	created := time.Since(start)
	waitFor(b, 10*time.Minute, "every slice applied", func() error { return slicesApplied(ctx, memberc, ns, services) })
	applied := time.Since(start)
	cpuApplied := cpuSeconds(b, pid) - cpu0
	b.Logf("at (a): %s", hubWork(b, metricsAddr))
	waitFor(b, 30*time.Minute, "every service available", func() error { return allConverged(ctx, hubc, ns, services, "") })
	available := time.Since(start)
	cpuAvailable := cpuSeconds(b, pid) - cpu0
	b.Logf("at (b): %s", hubWork(b, metricsAddr))
	peak := procStatusKiB(b, pid, "VmHWM")

	// Idle: nothing changes for a minute.
	idle0 := cpuSeconds(b, pid)
	select {
	case <-ctx.Done():
		b.Fatal(ctx.Err())
	case <-time.After(time.Minute):
	}
	idle := cpuSeconds(b, pid) - idle0

	victim := "us-1"
	var mc v1alpha1.MemberCluster
	if err := hubc.Get(ctx, client.ObjectKey{Name: victim}, &mc); err != nil {
		b.Fatal(err)
	}
	mc.Spec.Taints = []v1alpha1.Taint{{Key: "maintenance", Effect: v1alpha1.TaintNoExecute}}
	evac0 := time.Now()
	if err := hubc.Update(ctx, &mc); err != nil {
		b.Fatal(err)
	}
	waitFor(b, 60*time.Minute, "every service off "+victim, func() error { return allConverged(ctx, hubc, ns, services, victim) })
	evacuated := time.Since(evac0)

	// The anchor for (a), on the same bed: the same slices applied straight
	// to the members by a plain client with as many services at once as
	// the hub's workers, without the hub.
	floor := applyFloor(b, memberc, "floor", services)

	b.ReportMetric(applied.Seconds(), "applied-s")
	b.ReportMetric(floor.Seconds(), "floor-applied-s")
	b.ReportMetric(available.Seconds(), "available-s")
	b.ReportMetric(cpuAvailable, "hub-cpu-s")
	b.ReportMetric(float64(peak)/1024, "hub-peak-MiB")
	b.ReportMetric(idle/60*100, "idle-cpu-%")
	b.ReportMetric(evacuated.Seconds(), "evacuate-s")
	b.Logf("anchor for (a): the same %d slices applied by a plain client without the hub in %.1f s", services*3, floor.Seconds())
	b.Logf("%d services x 3 replicas: created in %.1f s; (a) every slice applied %.1f s (hub CPU %.1f s); (b) every service available %.1f s; (c) hub CPU %.1f s, peak RSS %.0f MiB; (d) idle CPU %.2f%% of a core over 60 s; (e) %s tainted NoExecute -> converged again in %.1f s",
		services, created.Seconds(), applied.Seconds(), cpuApplied, available.Seconds(), cpuAvailable, float64(peak)/1024, idle/60*100, victim, evacuated.Seconds())
}

// createServices creates n services with 16 writers.
func createServices(b *testing.B, hubc client.Client, ns string, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs <- hubc.Create(b.Context(), benchService(ns, fmt.Sprintf("svc-%04d", i)))
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchService(ns, name string) *v1alpha1.FederatedStatefulSet {
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas: 3,
			Ports:    []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:15"}}},
				},
				PodManagementPolicy: appsv1.ParallelPodManagement,
			},
			Placement: v1alpha1.Placement{
				SpreadConstraints: []v1alpha1.SpreadConstraint{{TopologyKey: v1alpha1.TopologyRegion, MaxSkew: 1}},
			},
		},
	}
}

// slicesApplied checks that the members hold a slice of every service.
func slicesApplied(ctx context.Context, memberc map[string]client.Client, ns string, services int) error {
	total := 0
	for name, c := range memberc {
		var list appsv1.StatefulSetList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("list slices in %s: %w", name, err)
		}
		total += len(list.Items)
	}
	if total < services*3 {
		return fmt.Errorf("%d of %d slices", total, services*3)
	}
	return nil
}

// allConverged checks that every service is available, converged, and
// holds nothing in the member avoid.
func allConverged(ctx context.Context, hubc client.Client, ns string, services int, avoid string) error {
	var list v1alpha1.FederatedStatefulSetList
	if err := hubc.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	done := 0
	for _, s := range list.Items {
		c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ServiceProgressing)
		ok := s.Status.ObservedGeneration == s.Generation && s.Status.ReadyReplicas == s.Spec.Replicas &&
			c != nil && c.Reason == v1alpha1.ReasonConverged
		for _, o := range s.Status.Ordinals {
			ok = ok && o.Cluster != avoid
		}
		if ok {
			done++
		}
	}
	if done < services {
		return fmt.Errorf("%d of %d services converged", done, services)
	}
	return nil
}

// buildFedstate builds cmd/fedstate into a temporary directory.
func buildFedstate(b *testing.B) string {
	out := filepath.Join(b.TempDir(), "fedstate")
	cmd := exec.CommandContext(b.Context(), "go", "build", "-o", out, "./cmd/fedstate")
	cmd.Dir = sourceRoot(b)
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build fedstate: %v\n%s", err, msg)
	}
	return out
}

func sourceRoot(b *testing.B) string {
	root, ok := testbed.SourceRoot()
	if !ok {
		b.Fatal("not inside the fedstate source tree")
	}
	return root
}

// startHub runs fedstate hub against the hub kubeconfig and returns its
// process id; it is stopped when the benchmark ends.
func startHub(b *testing.B, bin, kubeconfig, metricsAddr string) int {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "hub", "--kubeconfig", kubeconfig, "--leader-elect=false", "--insecure-local",
		"--metrics-bind-address", metricsAddr, "--health-probe-bind-address", "")
	log, err := os.Create(filepath.Join(b.TempDir(), "hub.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		_ = log.Close()
	})
	return cmd.Process.Pid
}

func waitFor(b *testing.B, timeout time.Duration, what string, check func() error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		select {
		case <-b.Context().Done():
			b.Fatal(b.Context().Err())
		case <-tick.C:
		}
	}
}

// cpuSeconds is the user+system CPU time of a process.
func cpuSeconds(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// procStatusKiB reads a kB field of /proc/<pid>/status.
func procStatusKiB(b *testing.B, pid int, key string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

// freeAddress returns a loopback address with a port nobody listens on.
func freeAddress(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// hubWork sums what the hub's /metrics say about its reconciles so far:
// how many, how long they took, how long services waited in the queue, and
// how many requests its clients made.
func hubWork(b *testing.B, addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sums := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.IndexAny(line, "{ ")
		j := strings.LastIndexByte(line, ' ')
		if i < 0 || j < 0 {
			continue
		}
		name := line[:i]
		if strings.HasPrefix(name, "workqueue_") && !strings.Contains(line, `name="federatedstatefulset"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[j+1:], 64)
		if err != nil {
			continue
		}
		sums[name] += v
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprintf("%.0f reconciles taking %.1f s in all; %.1f s waited in the queue in all; %.0f client requests",
		sums["fedstate_reconcile_total"], sums["fedstate_reconcile_duration_seconds_sum"],
		sums["workqueue_queue_duration_seconds_sum"], sums["rest_client_requests_total"])
}

// applyFloor applies the slices of n bench services to the members in
// namespace ns with server-side apply, the way the hub does (16 services at
// once, the members of one service in parallel), and returns how long it
// took until every StatefulSet exists.
func applyFloor(b *testing.B, memberc map[string]client.Client, ns string, n int) time.Duration {
	ctx := b.Context()
	for name, c := range memberc {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			b.Fatalf("create namespace %s in %s: %v", ns, name, err)
		}
	}
	clusters := slices.Sorted(maps.Keys(memberc))
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n*len(clusters))
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				fss := benchService(ns, fmt.Sprintf("svc-%04d", i))
				var per sync.WaitGroup
				for k, cluster := range clusters {
					per.Go(func() {
						sl := statefulset.Render(fss, cluster, int32(k), 1, 1)
						for _, o := range []client.Object{sl.Service, sl.Budget, sl.StatefulSet} {
							if err := applyObject(ctx, memberc[cluster], o); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				per.Wait()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	waitFor(b, 10*time.Minute, "every floor slice applied", func() error { return slicesApplied(ctx, memberc, ns, n) })
	return time.Since(start)
}

// applyObject applies o with server-side apply, as the hub's field manager
// would.
func applyObject(ctx context.Context, c client.Client, o client.Object) error {
	raw, err := json.Marshal(o)
	if err != nil {
		return err
	}
	u := map[string]any{}
	if err := json.Unmarshal(raw, &u); err != nil {
		return err
	}
	delete(u, "status")
	if md, ok := u["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	obj := &unstructured.Unstructured{Object: u}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("bench-floor"), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
