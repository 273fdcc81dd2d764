package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// hub is a client of the test bed's hub, where the CRDs are installed.
var hub client.Client

// TestMain starts a hub-only test bed (etcd and a real kube-apiserver) with
// the generated CRDs installed, shared by every test of the package.
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
	dir, err := os.MkdirTemp("", "fedstate-api-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir, cfg.Members = bins, dir, nil
	bed, err := testbed.Start(ctx, cfg)
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
	if err := testbed.InstallCRDs(ctx, rc, "../../../config/crd/bases"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	scheme := runtime.NewScheme()
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
