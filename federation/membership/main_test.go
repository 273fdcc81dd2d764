package membership_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// bed is the hub and three members (eu-1, us-1, ap-1) the tests share;
// hub is an admin client of its hub, where the CRDs are installed.
var (
	bed *testbed.Bed
	hub client.Client
)

// TestMain starts one test bed for the package, with the fedstate CRDs
// installed in the hub.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "fedstate-membership-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir = bins, dir
	bed, err = testbed.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := bed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	rc, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := testbed.InstallCRDs(ctx, rc, "../../config/crd/bases"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hub, err = client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
