package load_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/replication/postgres"
)

// The integration tests run real PostgreSQL 15 servers, each on its own
// loopback address and port 5432 (as the postgres OS user when run as
// root), and a real DNS server fed by an embedded etcd.

// loopback returns the n-th test address, 127.88.<pid>.<n>: two runs of the
// tests at once do not share servers.
func loopback(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 88, byte(os.Getpid() % 250), byte(n)})
}

// startPostgres initialises and starts a server named name on addr that
// trusts clients from loopback, and stops it when the test ends.
func startPostgres(ctx context.Context, t *testing.T, base, name string, addr netip.Addr) (*postgres.Instance, error) {
	cfg := postgres.DefaultConfig()
	cfg.Name = name
	cfg.DataDir = filepath.Join(base, name, "data")
	cfg.SocketDir = filepath.Join(base, name, "run")
	cfg.Listen = addr
	cfg.ClientNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.ClientAuth = "trust"
	cfg.NoSync = true
	cfg.WALKeepSize = 64
	cfg.Settings = map[string]string{"shared_buffers": "16MB", "max_connections": "30", "fsync": "off"}
	cfg.StartTimeout = time.Minute
	cfg.PollInterval = 20 * time.Millisecond
	in, err := postgres.New(cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = in.Stop(ctx, postgres.StopImmediate) // the data is thrown away
	})
	if err := in.Init(ctx); err != nil {
		return nil, err
	}
	return in, in.Start(ctx)
}

// requirePostgres fails the test when the PostgreSQL 15 binaries are missing.
func requirePostgres(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(postgres.DefaultConfig().BinDir, "initdb")); err != nil {
		t.Fatalf("the PostgreSQL 15 server is needed for these tests: apt-get install postgresql-15 (%v)", err)
	}
}

// testDir is a fresh directory the postgres OS user can traverse.
func testDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startEtcd runs an embedded one-member etcd for the test and returns a
// client of it. Its ports were free a moment before; it tries again when
// another process took one meanwhile.
func startEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	var (
		e   *embed.Etcd
		cu  *url.URL
		err error
	)
	for range 3 {
		if e, cu, err = tryEtcd(t); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start embedded etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("embedded etcd not ready within 30s")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{cu.String()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func tryEtcd(t *testing.T) (*embed.Etcd, *url.URL, error) {
	cu, _ := url.Parse("http://" + freeAddr(t))
	pu, _ := url.Parse("http://" + freeAddr(t))
	cfg := embed.NewConfig()
	cfg.Name = "load-test"
	cfg.Dir = t.TempDir()
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	return e, cu, err
}

// startDNS runs a DNS server of the default zone fed from cli and returns
// its address.
func startDNS(t *testing.T, cli *clientv3.Client) string {
	t.Helper()
	srv, err := dnsserver.New(dnsserver.DefaultConfig(), cli, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pc, ln, err := dnsserver.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), logr.Discard()))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("DNS server: %v", err)
		}
	})
	return ln.Addr().String()
}

// lookupA asks server for the A records of name.
func lookupA(server, name string) ([]netip.Addr, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	in, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, server)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			addr, _ := netip.AddrFromSlice(a.A.To4())
			out = append(out, addr)
		}
	}
	return out, nil
}

// poll calls cond until it returns nil or within passes.
func poll(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		<-tick.C
	}
}

// wantPrimary is a poll condition: server names addr as the primary.
func wantPrimary(server, name string, addr netip.Addr) func() error {
	return func() error {
		got, err := lookupA(server, name)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0] != addr {
			return fmt.Errorf("primary %v, want %v", got, addr)
		}
		return nil
	}
}
