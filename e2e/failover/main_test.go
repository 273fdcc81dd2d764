package failover

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/faultnet"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
	"github.com/fedstate/fedstate/replication/coord"
)

// The federation every test of the package shares.
var (
	bed      *testbed.Bed
	hubc     client.Client
	scheme   *runtime.Scheme
	store    *coord.Store
	etcdURL  string
	dnsAddr  string   // the first of dnsAddrs
	dnsAddrs []string // one DNS server per region
	fedstate string
	// proxies sit between each member's agent and the federation etcd, so
	// a test can cut one region off etcd while it keeps running.
	proxies = map[string]*faultnet.Proxy{}
)

// Timings of the federation under test: the lease TTL and the report
// interval the agents run with.
const (
	leaseTTL       = 4 * time.Second
	reportInterval = 500 * time.Millisecond
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "e2e/failover:", err); return 1 }
	if os.Geteuid() != 0 {
		return fail(fmt.Errorf("must run as root: the agents run PostgreSQL as the postgres user"))
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return fail(fmt.Errorf("the postgres OS user is missing (Debian package postgresql-15): %w", err))
	}
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		return fail(err)
	}
	dir, err := os.MkdirTemp("", "fedstate-failover-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	root, ok := testbed.SourceRoot()
	if !ok {
		return fail(fmt.Errorf("cannot find the source tree"))
	}
	fedstate = filepath.Join(dir, "fedstate")
	build := exec.CommandContext(ctx, "go", "build", "-o", fedstate, "./cmd/fedstate")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fail(fmt.Errorf("build fedstate: %w", err))
	}

	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir = bins, filepath.Join(dir, "bed")
	if bed, err = testbed.Start(ctx, cfg); err != nil {
		return fail(err)
	}
	defer func() {
		if err := bed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		if os.Getenv("FEDSTATE_KEEP_LOGS") != "" {
			fmt.Fprintln(os.Stderr, "logs kept in", dir)
		}
	}()
	if os.Getenv("FEDSTATE_KEEP_LOGS") != "" {
		defer func() { _ = exec.Command("cp", "-a", cfg.StateDir, dir+".logs").Run() }()
	}
	if scheme, err = hub.Scheme(); err != nil {
		return fail(err)
	}
	hubRC, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		return fail(err)
	}
	if err := testbed.InstallCRDs(ctx, hubRC, filepath.Join(root, "config", "crd", "bases")); err != nil {
		return fail(err)
	}
	if hubc, err = client.New(hubRC, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}

	// The federation etcd: coord's embedded single node, in this process.
	ecfg := coord.DefaultConfig()
	ecfg.EmbedDataDir, ecfg.EmbedClientURL, ecfg.EmbedPeerURL = filepath.Join(dir, "etcd"), "http://127.0.0.1:0", "http://127.0.0.1:0"
	ecfg.LeaseTTL = leaseTTL
	ecfg.Logger = zap.NewNop()
	if store, err = coord.Connect(ctx, ecfg); err != nil {
		return fail(err)
	}
	defer store.Close()
	etcdURL = store.Endpoints()[0]

	for _, mspec := range cfg.Members {
		mrc, err := bed.RESTConfig(mspec.Name)
		if err != nil {
			return fail(err)
		}
		if _, err := membership.Join(ctx, hubc, mrc, membership.Options{Name: mspec.Name, Region: mspec.Region, Zone: mspec.Zone}); err != nil {
			return fail(err)
		}
	}
	hubCluster, err := bed.Cluster(testbed.HubName)
	if err != nil {
		return fail(err)
	}
	if err := bed.AddProcess(testbed.HubName, testbed.ProcessSpec{Name: "fedstate-hub", Path: fedstate, Args: []string{
		"hub", "--kubeconfig", hubCluster.Kubeconfig, "--etcd-endpoints", etcdURL,
		"--metrics-bind-address", "", "--health-probe-bind-address", "",
		"--leader-elect=false", "-v", "1", "--insecure-local",
	}}); err != nil {
		return fail(err)
	}
	for _, mspec := range cfg.Members {
		addr, err := freeAddr()
		if err != nil {
			return fail(err)
		}
		dnsAddrs = append(dnsAddrs, addr)
		if err := bed.AddProcess(testbed.HubName, testbed.ProcessSpec{Name: "fedstate-dns-" + mspec.Name, Path: fedstate, Args: []string{
			"dns", "--etcd-endpoints", etcdURL, "--listen", addr, "--region", mspec.Region, "--metrics-listen", "",
			"--insecure-local", "--rate-limit", "0", // every query of the tests comes from loopback
		}}); err != nil {
			return fail(err)
		}
	}
	dnsAddr = dnsAddrs[0]
	runDir, err := os.MkdirTemp("/tmp", "fsr")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(runDir)
	if err := os.Chmod(runDir, 0o755); err != nil {
		return fail(err)
	}
	for _, mspec := range cfg.Members {
		c, err := bed.Cluster(mspec.Name)
		if err != nil {
			return fail(err)
		}
		p, err := faultnet.Listen(hostPort(etcdURL))
		if err != nil {
			return fail(err)
		}
		defer p.Close()
		proxies[mspec.Name] = p
		if err := bed.AddProcess(mspec.Name, testbed.ProcessSpec{Name: "fedstate-agent", Path: fedstate, Args: []string{
			"agent", "--cluster", mspec.Name, "--region", mspec.Region, "--kubeconfig", c.Kubeconfig,
			"--etcd-endpoints", "http://" + p.Addr(), "--lease-ttl", leaseTTL.String(), "--renew-interval", "400ms",
			"--volumes-dir", filepath.Join(bed.VolumeDir(mspec.Name), "unclaimed"),
			"--run-dir", filepath.Join(runDir, mspec.Name), "--report-interval", reportInterval.String(),
			"--client-networks", "127.0.0.0/8", "--client-auth", "trust", "--pg-no-sync", "--insecure-local",
		}}); err != nil {
			return fail(err)
		}
	}
	if err := membersReady(ctx, len(cfg.Members)); err != nil {
		return fail(err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return m.Run()
}

// membersReady waits until the hub reports all n members Ready, so that
// the tests' services are placed over every region from the start.
func membersReady(ctx context.Context, n int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var list v1alpha1.MemberClusterList
		ready := 0
		if err := hubc.List(ctx, &list); err == nil {
			for _, mc := range list.Items {
				if meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberReady) {
					ready++
				}
			}
		}
		if ready == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d members Ready after 2 minutes", ready, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// hostPort is the host:port of an http:// URL.
func hostPort(url string) string {
	return url[len("http://"):]
}

// freeAddr returns a loopback address with a port free now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}
