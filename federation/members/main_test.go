package members_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/members"
)

// secretNamespace holds the members' kubeconfig Secrets, as fedctl join
// writes them.
const secretNamespace = "fedstate-system"

// Shared by every test of the package: one test bed (a hub and the three
// default members), a manager on the hub running the registry and the
// reconciler, and a log of the registry's events.
var (
	bed      *testbed.Bed
	scheme   *runtime.Scheme
	hub      client.Client
	registry *members.Registry
	seen     = &eventLog{counts: map[string]int{}}
	// memberNames are the bed's members, each joined as a MemberCluster of
	// the same name.
	memberNames []string
)

// testConfig probes fast so that outages show within a second or two.
func testConfig() config.Members {
	c := config.DefaultMembers()
	c.ProbeInterval, c.ProbeTimeout, c.FailureThreshold = 300*time.Millisecond, 250*time.Millisecond, 2
	return c
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := setUp(m); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func setUp(m *testing.M) (err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fedstate-members-")
	if err != nil {
		return err
	}
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir = bins, dir
	if bed, err = testbed.Start(ctx, cfg); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, bed.Close()) }()
	rc, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		return err
	}
	if err := testbed.InstallCRDs(ctx, rc, "../../config/crd/bases"); err != nil {
		return err
	}
	scheme = runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		return err
	}
	if hub, err = client.New(rc, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if err := hub.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: secretNamespace}}); err != nil {
		return err
	}
	done, err := startManager(ctx, rc)
	if err != nil {
		return err
	}
	defer func() {
		cancel()
		err = errors.Join(err, <-done)
	}()
	for _, c := range bed.Clusters() {
		if c.Hub {
			continue
		}
		memberNames = append(memberNames, c.Name)
		if err := join(ctx, c); err != nil {
			return err
		}
	}
	if code := m.Run(); code != 0 {
		return fmt.Errorf("tests failed (exit code %d)", code)
	}
	return nil
}

// startManager runs a leader-elected manager with the registry and the
// reconciler on the hub until ctx ends; done yields Start's error.
func startManager(ctx context.Context, rc *rest.Config) (<-chan error, error) {
	level := zap.Level(zapcore.ErrorLevel)
	if testing.Verbose() {
		level = zap.Level(zapcore.InfoLevel)
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), level))
	mgr, err := ctrl.NewManager(rc, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          true,
		LeaderElectionID:        "fedstate-members-test",
		LeaderElectionNamespace: secretNamespace,
	})
	if err != nil {
		return nil, err
	}
	rec := mgr.GetEventRecorder("fedstate-members")
	if registry, err = members.New(testConfig(), mgr.GetClient(), mgr.GetScheme(), rec); err != nil {
		return nil, err
	}
	r := &members.MemberClusterReconciler{Client: mgr.GetClient(), Registry: registry, Recorder: rec}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	go seen.drain(ctx, registry.Events())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return done, nil
}

// join does what fedctl join leaves behind: the member's kubeconfig in a
// Secret and a MemberCluster naming it.
func join(ctx context.Context, c testbed.Cluster) error {
	raw, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: secretNamespace, Name: "member-" + c.Name},
		Data:       map[string][]byte{members.DefaultKubeconfigKey: raw},
	}
	if err := hub.Create(ctx, secret); err != nil {
		return err
	}
	return hub.Create(ctx, &v1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name},
		Spec: v1alpha1.MemberClusterSpec{
			Region: c.Region, Zone: c.Zone,
			KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: secretNamespace, Name: secret.Name},
		},
	})
}

// eventLog counts the registry's events per "Kind namespace/name".
type eventLog struct {
	mu     sync.Mutex
	counts map[string]int
}

func (l *eventLog) drain(ctx context.Context, ch <-chan event.GenericEvent) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-ch:
			key := fmt.Sprintf("%T %s/%s", ev.Object, ev.Object.GetNamespace(), ev.Object.GetName())
			l.mu.Lock()
			l.counts[key]++
			l.mu.Unlock()
		}
	}
}

// count is how many events arrived for key ("*v1.Service ns/name").
func (l *eventLog) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[key]
}
