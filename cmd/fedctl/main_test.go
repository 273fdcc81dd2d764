package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
)

// shared is the test bed of the join and unjoin tests: a hub with the CRDs
// and one member, eu-1, started on first use and stopped by TestMain.
var shared struct {
	once sync.Once
	bed  *testbed.Bed
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.bed != nil {
		if err := shared.bed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close test bed:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// federation returns the shared bed, starting it on first use.
func federation(t *testing.T) *testbed.Bed {
	t.Helper()
	shared.once.Do(func() {
		ctx := context.Background()
		bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
		if err != nil {
			shared.err = err
			return
		}
		dir, err := os.MkdirTemp("", "fedstate-fedctl-")
		if err != nil {
			shared.err = err
			return
		}
		cfg := testbed.DefaultConfig()
		cfg.Binaries, cfg.StateDir = bins, dir
		cfg.Members = []testbed.MemberSpec{{Name: "eu-1", Region: "eu-west", Zone: "eu-west-a"}}
		if shared.bed, shared.err = testbed.Start(ctx, cfg); shared.err != nil {
			return
		}
		rc, err := shared.bed.RESTConfig(testbed.HubName)
		if err != nil {
			shared.err = err
			return
		}
		shared.err = testbed.InstallCRDs(ctx, rc, "../../config/crd/bases")
	})
	if shared.err != nil {
		t.Fatalf("test bed: %v", shared.err)
	}
	return shared.bed
}

// hubOf returns a client of the shared bed's hub and the flag that points
// fedctl at it, and creates namespace ns there.
func hubOf(t *testing.T, ns string) (client.Client, []string) {
	t.Helper()
	hubCluster, err := federation(t).Cluster(testbed.HubName)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := federation(t).RESTConfig(testbed.HubName)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := hubClient(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Create(callCtx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return hub, []string{"--hub-kubeconfig", hubCluster.Kubeconfig}
}
