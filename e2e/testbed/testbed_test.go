package testbed_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/fedstate/fedstate/e2e/testbed"
)

func clientFor(t *testing.T, bed *testbed.Bed, cluster string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := bed.RESTConfig(cluster)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestMembersHaveLabelledNodesAndDefaultStorage(t *testing.T) {
	bed := sharedBed(t)
	for _, m := range testbed.DefaultMembers() {
		cs := clientFor(t, bed, m.Name)
		nodes, err := cs.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("%s: list nodes: %v", m.Name, err)
		}
		if len(nodes.Items) == 0 {
			t.Fatalf("%s: no nodes", m.Name)
		}
		for _, n := range nodes.Items {
			if n.Labels[testbed.LabelRegion] != m.Region || n.Labels[testbed.LabelZone] != m.Zone {
				t.Errorf("%s: node %s labels region=%q zone=%q, want %q %q", m.Name, n.Name,
					n.Labels[testbed.LabelRegion], n.Labels[testbed.LabelZone], m.Region, m.Zone)
			}
		}
		sc, err := cs.StorageV1().StorageClasses().Get(t.Context(), testbed.StorageClassName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: get StorageClass: %v", m.Name, err)
		}
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
			t.Errorf("%s: StorageClass %s is not the default", m.Name, sc.Name)
		}
	}
	hub := clientFor(t, bed, testbed.HubName)
	nodes, err := hub.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 0 {
		t.Errorf("hub has %d nodes, want none", len(nodes.Items))
	}
}

func TestStatefulSetWithOrdinalStartRunsOnLoopbackIPs(t *testing.T) {
	bed := sharedBed(t)
	member := testbed.DefaultMembers()[0]
	cs := clientFor(t, bed, member.Name)
	ctx := t.Context()
	ns := createNamespace(t, cs, "ordinals")

	labels := map[string]string{"app": "db"}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone, Selector: labels,
			Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}},
		},
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr(int32(2)),
			Ordinals:    &appsv1.StatefulSetOrdinals{Start: 3},
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "postgres", Image: "postgres:15",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/postgresql"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
					},
				},
			}},
		},
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		return got.Status.ReadyReplicas == 2, nil
	})
	if err != nil {
		t.Fatalf("StatefulSet did not reach readyReplicas 2: %v", err)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=db"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	for _, p := range pods.Items {
		names = append(names, p.Name)
		ip, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil || !loopback.Contains(ip) {
			t.Errorf("pod %s has IP %q, want one inside %s", p.Name, p.Status.PodIP, loopback)
		}
	}
	slices.Sort(names)
	if want := []string{"db-3", "db-4"}; !slices.Equal(names, want) {
		t.Errorf("pods = %v, want %v", names, want)
	}
	pvcs, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pvcs.Items {
		if c.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim %s is %s, want Bound", c.Name, c.Status.Phase)
		}
	}
	if len(pvcs.Items) != 2 {
		t.Errorf("%d claims, want 2", len(pvcs.Items))
	}
}

func TestStoppedMemberIsUnreachableAndComesBackWithItsObjects(t *testing.T) {
	bed := sharedBed(t)
	member := testbed.DefaultMembers()[1].Name
	cs := clientFor(t, bed, member)
	ns := createNamespace(t, cs, "outage")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: ns}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := bed.StopCluster(member); err != nil {
		t.Fatalf("stop %s: %v", member, err)
	}
	if _, err := cs.Discovery().ServerVersion(); err == nil {
		t.Fatalf("%s answered after it was stopped", member)
	}
	for _, h := range bed.Health(t.Context()) {
		if want := h.Name != member; h.Ready != want {
			t.Errorf("after stopping %s: %s ready = %t, want %t", member, h.Name, h.Ready, want)
		}
	}

	if err := bed.StartCluster(t.Context(), member); err != nil {
		t.Fatalf("start %s: %v", member, err)
	}
	got, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "survivor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got.Data["k"] != "v" {
		t.Errorf("after restart: data = %v", got.Data)
	}
}

func TestCloseStopsEveryProcessAndFreesPorts(t *testing.T) {
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir, cfg.Members = binaries(t), filepath.Join(t.TempDir(), "bed"), testbed.DefaultMembers()[:1]
	bed, err := testbed.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pids := bed.PIDs()
	// etcd + hub (apiserver, controller-manager) + member (apiserver,
	// controller-manager, scheduler, kwok).
	if len(pids) != 7 {
		t.Errorf("started %d processes, want 7", len(pids))
	}
	var ports []string
	for _, c := range bed.Clusters() {
		ports = append(ports, strings.TrimPrefix(c.Server, "https://"))
	}
	ports = append(ports, strings.TrimPrefix(bed.EtcdURL(), "http://"))

	if err := bed.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, pid := range pids {
		if testbed.PIDAlive(pid) {
			t.Errorf("process %d is alive after Close", pid)
		}
	}
	for _, addr := range ports {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("port %s still taken after Close: %v", addr, err)
			continue
		}
		l.Close()
	}
	if _, err := os.Stat(cfg.StateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s still there after Close (err %v)", cfg.StateDir, err)
	}
	if err := bed.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestProcessesDieWhenTheTestProcessPanics(t *testing.T) {
	binaries(t) // the helper uses the cache and must not build
	out := filepath.Join(t.TempDir(), "pids")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), panicHelperEnv+"="+out)
	output, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("helper: want a panic (exit status 2), got %v\n%s", err, output)
	}
	if !strings.Contains(string(output), "panicking with the bed running") {
		t.Fatalf("helper did not reach its panic:\n%s", output)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	dir, list, _ := strings.Cut(string(raw), "\n")
	t.Cleanup(func() { os.RemoveAll(dir) })
	var pids []int
	for _, f := range strings.Fields(list) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 7 {
		t.Fatalf("helper recorded %d processes, want 7", len(pids))
	}
	err = wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return !slices.ContainsFunc(pids, testbed.PIDAlive), nil
	})
	if err != nil {
		var alive []int
		for _, p := range pids {
			if testbed.PIDAlive(p) {
				alive = append(alive, p)
			}
		}
		t.Fatalf("processes %v outlived the panicking test process", alive)
	}
}

func TestConfigValidateReportsEveryBadField(t *testing.T) {
	cfg := testbed.Config{Members: []testbed.MemberSpec{{Name: "Bad_Name"}, {Name: "hub", Region: "r"}}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted an empty config")
	}
	for _, want := range []string{"StateDir", "Binaries", "Members[0].Name", "Members[0].Region", "Members[1].Name", "NodesPerMember", "ReadyTimeout", "StopTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	good := testbed.DefaultConfig()
	good.Binaries, good.StateDir = testbed.Binaries{KubeAPIServer: "k", Etcd: "e"}, "/tmp/x"
	if err := good.Validate(); err != nil {
		t.Errorf("default config rejected: %v", err)
	}
}

// BenchmarkStart measures how long a hub and three members take to become
// ready, and their memory. Run with -benchtime=3x.
func BenchmarkStart(b *testing.B) {
	bins := binaries(b)
	var apiReady, nodesReady time.Duration
	var rss, pss int64
	n := 0
	for b.Loop() {
		cfg := testbed.DefaultConfig()
		cfg.Binaries, cfg.StateDir = bins, filepath.Join(b.TempDir(), fmt.Sprint("bed", n))
		bed, err := testbed.Start(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		apiReady, nodesReady = apiReady+bed.APIServersReady, nodesReady+bed.Ready
		for _, u := range bed.Usage() {
			rss, pss = rss+u.RSSBytes, pss+u.PSSBytes
		}
		if err := bed.Close(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(apiReady.Seconds()/float64(n), "apiservers-ready-s")
	b.ReportMetric(nodesReady.Seconds()/float64(n), "nodes-ready-s")
	b.ReportMetric(float64(rss>>20)/float64(n), "rss-MiB")
	b.ReportMetric(float64(pss>>20)/float64(n), "pss-MiB")
}

func createNamespace(t *testing.T, cs *kubernetes.Clientset, prefix string) string {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func ptr[T any](v T) *T { return &v }
