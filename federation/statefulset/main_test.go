package statefulset_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
)

// The package's tests share one test bed (a hub and three members) with a
// hub running in the test process.
var (
	bed     *testbed.Bed
	scheme  *runtime.Scheme
	hubc    client.Client
	members = map[string]client.WithWatch{} // admin clients, uncached
)

// deletionTimeout is the hub's wait for unreachable members on deletion.
const deletionTimeout = 4 * time.Second

func TestMain(m *testing.M) { os.Exit(run(m)) }

// testLogLevel is the hub's log level: errors, or FEDSTATE_TEST_LOG (a
// slog level such as -1 for the hub's detail).
func testLogLevel() slog.Level {
	var l slog.Level = slog.LevelError
	if v := os.Getenv("FEDSTATE_TEST_LOG"); v != "" {
		_ = l.UnmarshalText([]byte(v))
	}
	return l
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		return fail(err)
	}
	dir, err := os.MkdirTemp("", "fedstate-statefulset-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir = bins, dir
	if bed, err = testbed.Start(ctx, cfg); err != nil {
		return fail(err)
	}
	defer func() {
		if err := bed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if scheme, err = hub.Scheme(); err != nil {
		return fail(err)
	}
	rc, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		return fail(err)
	}
	if err := testbed.InstallCRDs(ctx, rc, "../../config/crd/bases"); err != nil {
		return fail(err)
	}
	if hubc, err = client.New(rc, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	for _, c := range bed.Clusters() {
		if c.Hub {
			continue
		}
		mrc, err := bed.RESTConfig(c.Name)
		if err != nil {
			return fail(err)
		}
		if members[c.Name], err = client.NewWithWatch(mrc, client.Options{Scheme: scheme}); err != nil {
			return fail(err)
		}
	}
	// The hub reaches the members only through the least-privilege
	// credentials fedctl join mints: every test proves them sufficient.
	for _, c := range bed.Clusters() {
		if c.Hub {
			continue
		}
		mrc, err := bed.RESTConfig(c.Name)
		if err != nil {
			return fail(err)
		}
		if _, err := membership.Join(ctx, hubc, mrc, membership.Options{Name: c.Name, Region: c.Region, Zone: c.Zone}); err != nil {
			return fail(fmt.Errorf("join %s: %w", c.Name, err))
		}
	}

	hcfg := config.DefaultHub()
	hcfg.LeaderElection.Enabled = false
	hcfg.Members.ProbeInterval, hcfg.Members.ProbeTimeout, hcfg.Members.FailureThreshold = time.Second, 500*time.Millisecond, 2
	hcfg.Services.DeletionTimeout = deletionTimeout
	log := logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: testLogLevel()}))
	ctrl.SetLogger(log)
	mgr, err := ctrl.NewManager(rc, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 log,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fail(err)
	}
	if _, err := hub.Setup(mgr, hcfg, nil); err != nil {
		return fail(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		return fail(fmt.Errorf("hub manager: %w", err))
	}
	return code
}
