package drill_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/hub"
)

// The package's tests share a hub-only test bed (a real kube-apiserver
// with the CRDs) and three MemberClusters, one per region. No coordinator
// runs: the tests answer the drills' switchover requests in the services'
// status themselves.
var (
	scheme   *runtime.Scheme
	hubRC    *rest.Config
	hubc     client.Client
	testLogs logr.Logger
)

// clusters are the member clusters: one per region.
var clusters = []struct{ name, region string }{
	{"eu-1", "eu-west"}, {"us-1", "us-east"}, {"ap-1", "ap-south"},
}

// timeout bounds one wait for the controller; generous for a loaded
// two-core machine.
const timeout = 60 * time.Second

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		return fail(err)
	}
	dir, err := os.MkdirTemp("", "fedstate-drill-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir, cfg.Members = bins, dir, nil
	bed, err := testbed.Start(ctx, cfg)
	if err != nil {
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
	if hubRC, err = bed.RESTConfig(testbed.HubName); err != nil {
		return fail(err)
	}
	if err := testbed.InstallCRDs(ctx, hubRC, "../../config/crd/bases"); err != nil {
		return fail(err)
	}
	if hubc, err = client.New(hubRC, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	for _, c := range clusters {
		mc := &v1alpha1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: c.name},
			Spec: v1alpha1.MemberClusterSpec{Region: c.region,
				KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: "fedstate-system", Name: c.name}},
		}
		if err := hubc.Create(ctx, mc); err != nil {
			return fail(fmt.Errorf("create MemberCluster %s: %w", c.name, err))
		}
		meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{Type: v1alpha1.MemberReachable, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonProbeSucceeded})
		if err := hubc.Status().Update(ctx, mc); err != nil {
			return fail(fmt.Errorf("status of MemberCluster %s: %w", c.name, err))
		}
	}
	level := slog.LevelError
	if v := os.Getenv("FEDSTATE_TEST_LOG"); v != "" {
		_ = level.UnmarshalText([]byte(v))
	}
	testLogs = logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctrl.SetLogger(testLogs)
	return m.Run()
}
