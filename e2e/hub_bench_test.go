package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
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
	pid := startHub(b, bin, hubCluster.Kubeconfig)
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
	waitFor(b, 30*time.Minute, "every service available", func() error { return allConverged(ctx, hubc, ns, services, "") })
	available := time.Since(start)
	cpuAvailable := cpuSeconds(b, pid) - cpu0
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

	b.ReportMetric(applied.Seconds(), "applied-s")
	b.ReportMetric(available.Seconds(), "available-s")
	b.ReportMetric(cpuAvailable, "hub-cpu-s")
	b.ReportMetric(float64(peak)/1024, "hub-peak-MiB")
	b.ReportMetric(idle/60*100, "idle-cpu-%")
	b.ReportMetric(evacuated.Seconds(), "evacuate-s")
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
func startHub(b *testing.B, bin, kubeconfig string) int {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "hub", "--kubeconfig", kubeconfig, "--leader-elect=false",
		"--metrics-bind-address", "", "--health-probe-bind-address", "")
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
