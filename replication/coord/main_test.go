package coord

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/fedstate/fedstate/e2e/faultnet"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// etcdURL is the client URL of the package's real etcd: one embedded
// member started in TestMain and shared by every test, each under its own
// prefix. TestConnectEmbedded covers Connect's own embedded etcd.
var etcdURL string

func TestMain(m *testing.M) {
	os.Exit(runWithEtcd(m))
}

func runWithEtcd(m *testing.M) int {
	dir, err := os.MkdirTemp("", "coord-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cfg := embed.NewConfig()
	cfg.Name = "coord-test"
	cfg.Dir = dir
	loopback := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{loopback}, []url.URL{loopback}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{loopback}, []url.URL{loopback}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// The tests run beside benchmarks on a busy machine: fsync stalls would
	// exceed the short request timeouts the tests use, and durability of
	// test data does not matter.
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded etcd:", err)
		return 1
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "embedded etcd not ready within 30s")
		return 1
	}
	etcdURL = "http://" + e.Clients[0].Addr().String()
	return m.Run()
}

// embeddedConfig is the local default in dir on free loopback ports.
func embeddedConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.EmbedDataDir = dir
	cfg.EmbedClientURL = "http://127.0.0.1:0"
	cfg.EmbedPeerURL = "http://127.0.0.1:0"
	return cfg
}

// testConfig connects to endpoint under a prefix of the test's own, with
// short leases and fast renewals.
func testConfig(t testing.TB, endpoint string) Config {
	cfg := DefaultConfig()
	cfg.Endpoints = []string{endpoint}
	cfg.Prefix = testRoot(t) + "coord/"
	cfg.LeaseTTL = 3 * time.Second
	cfg.LeaderTTL = 2 * time.Second
	cfg.RenewInterval = 100 * time.Millisecond
	// As long as the TTL allows: the machine may be loaded.
	cfg.RequestTimeout = 1400 * time.Millisecond
	return cfg
}

// testRoot is the root of every key a test writes, coordination and DNS.
func testRoot(t testing.TB) string {
	return "/test/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "/"
}

// newStore connects to the shared etcd with testConfig changed by mods;
// the Store is closed at the end of the test.
func newStore(t testing.TB, mods ...func(*Config)) *Store {
	t.Helper()
	cfg := testConfig(t, etcdURL)
	for _, mod := range mods {
		mod(&cfg)
	}
	st, err := Connect(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { // before Close: leave nothing for the next run
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := st.Client().Delete(ctx, testRoot(t), clientv3.WithPrefix()); err != nil {
			t.Error(err)
		}
	})
	return st
}

// startAgent starts an agent session closed at the end of the test.
func startAgent(t testing.TB, st *Store, name string) *Agent {
	t.Helper()
	a, err := st.StartAgent(t.Context(), name, "cluster-"+name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) }) // may be closed already
	return a
}

// campaign makes id the leader of st's prefix; it resigns at the end.
func campaign(t testing.TB, st *Store, id string) *Leader {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l, err := st.Campaign(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Resign(context.Background()) }) // may be over already
	return l
}

// svc1 is the service most tests coordinate.
var svc1 = Service{Namespace: "prod", Name: "db"}

// countOnly are the options of a prefix count.
func countOnly() []clientv3.OpOption {
	return []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly()}
}

// startProxy starts a fault-injecting proxy to the etcd at url, closed
// at the end of the test.
func startProxy(t testing.TB, url string) *faultnet.Proxy {
	t.Helper()
	p, err := faultnet.Listen(strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// dump returns every key under the test's root with its value and
// revisions, to prove that nothing was written.
func dump(t testing.TB, st *Store) []*mvccpb.KeyValue {
	t.Helper()
	resp, err := st.Client().Get(t.Context(), testRoot(t), clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Kvs
}

// sameKVs reports the first difference between two dumps.
func sameKVs(a, b []*mvccpb.KeyValue) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d keys, then %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if !bytes.Equal(x.Key, y.Key) || !bytes.Equal(x.Value, y.Value) || x.ModRevision != y.ModRevision ||
			x.CreateRevision != y.CreateRevision || x.Version != y.Version || x.Lease != y.Lease {
			return fmt.Errorf("%s changed: %v -> %v", x.Key, x, y)
		}
	}
	return nil
}

// closedWithin reports whether ch closes within d.
func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// poll calls cond until it returns nil or the deadline passes.
func poll(t testing.TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v: %v", what, within, err)
		case <-tick.C:
		}
	}
}
