package coordinator_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/replication/coord"
)

// The package's tests share a hub-only test bed (a real kube-apiserver
// with the CRDs) and one embedded etcd started by coord.Connect, the
// federation etcd; each test works under its own etcd prefixes and hub
// namespace. Agents are simulated (fakeagent_test.go).
var (
	scheme   *runtime.Scheme
	hubRC    *rest.Config
	hubc     client.Client
	etcdURL  string
	testLogs logr.Logger
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

// testLogLevel is the hub's log level: errors, or FEDSTATE_TEST_LOG (a
// slog level such as -1 for detail).
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
	dir, err := os.MkdirTemp("", "fedstate-coordinator-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir, cfg.Members = bins, dir+"/bed", nil
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
	// The federation etcd: coord's embedded single node, on free ports.
	ecfg := coord.DefaultConfig()
	ecfg.EmbedDataDir, ecfg.EmbedClientURL, ecfg.EmbedPeerURL = dir+"/etcd", "http://127.0.0.1:0", "http://127.0.0.1:0"
	ecfg.Logger = zap.NewNop()
	etcd, err := coord.Connect(ctx, ecfg)
	if err != nil {
		return fail(err)
	}
	defer etcd.Close()
	etcdURL = etcd.Endpoints()[0]
	if err := createMembers(ctx); err != nil {
		return fail(err)
	}
	testLogs = logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: testLogLevel()}))
	ctrl.SetLogger(testLogs)
	return m.Run()
}

// timeout bounds one test's waits for the hub; generous for a loaded
// two-core machine.
const timeout = 60 * time.Second
