package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/fedstate/fedstate/dnsserver"
)

// startEtcd runs an embedded etcd on loopback until the end of the test
// and returns a client of it.
func startEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = "fedctl-dig", t.TempDir()
	cu, pu := loopbackURL(t), loopbackURL(t)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
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

// loopbackURL is an http URL on a loopback port that was free a moment
// ago.
func loopbackURL(t *testing.T) url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return url.URL{Scheme: "http", Host: ln.Addr().String()}
}

// startDNS runs a fedstate DNS server of region eu-west reading cli until
// the end of the test and returns its address.
func startDNS(t *testing.T, cli *clientv3.Client) string {
	t.Helper()
	cfg := dnsserver.DefaultConfig()
	cfg.Region, cfg.RateLimit = "eu-west", 0
	srv, err := dnsserver.New(cfg, cli, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pc, ln, err := dnsserver.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return pc.LocalAddr().String()
}

// publishZone writes prod/db (three replicas, db-2 primary in epoch 7, in
// eu-west and us-east) and prod/big (40 replicas, too many SRV targets for
// UDP) and returns the etcd revision of the commit.
func publishZone(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	w, err := dnsserver.NewWriter(dnsserver.DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}
	var ops dnsserver.Ops
	add := func(o dnsserver.Ops, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		ops = ops.Add(o)
	}
	add(w.PutService("prod", "db", dnsserver.Service{Ports: []dnsserver.Port{{Name: "pg", Protocol: "tcp", Port: 5432}}}))
	for n, r := range []dnsserver.Replica{
		{Cluster: "us-1", Region: "us-east", Addresses: []netip.Addr{netip.MustParseAddr("127.12.0.2")}, Role: dnsserver.RoleSyncStandby, Ready: true},
		{Cluster: "us-1", Region: "us-east", Addresses: []netip.Addr{netip.MustParseAddr("127.12.0.3")}, Role: dnsserver.RoleAsyncReplica, Ready: true},
		{Cluster: "eu-1", Region: "eu-west", Addresses: []netip.Addr{netip.MustParseAddr("127.11.0.4")}, Role: dnsserver.RoleSyncStandby, Ready: true},
	} {
		add(w.PutReplica("prod", "db", n, r))
	}
	add(w.SetPrimary("prod", "db", nil, dnsserver.Primary{Ordinal: 2, Epoch: 7}))
	add(w.PutService("prod", "big", dnsserver.Service{Ports: []dnsserver.Port{{Name: "http", Protocol: "tcp", Port: 80}}}))
	for n := range 40 {
		add(w.PutReplica("prod", "big", n, dnsserver.Replica{Cluster: "us-1", Region: "us-east", Role: dnsserver.RoleAsyncReplica, Ready: true,
			Addresses: []netip.Addr{netip.AddrFrom4([4]byte{127, 13, 0, byte(n + 1)})}}))
	}
	resp, err := cli.Txn(callCtx(t)).If(ops.If...).Then(ops.Then...).Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("publish: %v", err)
	}
	return resp.Header.Revision
}

// TestDigCommand asks a real fedstate DNS server, fed from an embedded
// etcd, through fedctl dig, and checks the explanations.
func TestDigCommand(t *testing.T) {
	cli := startEtcd(t)
	rev := publishZone(t, cli)
	addr := startDNS(t, cli)
	t.Setenv("FEDSTATE_DNS", addr)

	// The server answers once it loaded the zone: wait for the primary.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		x, err := exchange(ctx, addr, "primary.db.prod.svc.fedstate.local.", dns.TypeA, false)
		if err == nil && x.Msg.Rcode == dns.RcodeSuccess && len(x.Msg.Answer) == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the DNS server does not answer the primary: %v", errors.Join(err, ctx.Err()))
		case <-tick.C:
		}
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{args: []string{"_pg._tcp.db.prod.svc"}, want: []string{
			"Name:     the SRV records of port pg/tcp of service prod/db",
			"Status:   NOERROR: the name exists and has 3 SRV record(s).",
			"Flags:    authoritative (AA)",
			"Target:   db-2.db.prod.svc.fedstate.local. port 5432: the primary (priority 0); in the server's own region (weight 100).",
			"Target:   db-0.db.prod.svc.fedstate.local. port 5432: a synchronous standby (priority 10); in another region than the server's (weight 10).",
			"Target:   db-1.db.prod.svc.fedstate.local. port 5432: an asynchronous replica (priority 20); in another region",
			"TTL:      5s",
			"Glue:     3 address(es)",
		}},
		{args: []string{"primary.db.prod.svc.fedstate.local.", "--tcp"}, want: []string{
			";; Answer over TCP",
			"primary.db.prod.svc.fedstate.local.\t5\tIN\tA\t127.11.0.4",
			"Epoch:    7 (TXT primary.db.prod.svc.fedstate.local.): the fencing epoch of the primary, replica 2,",
		}},
		{args: []string{"nope.prod.svc", "AAAA"}, want: []string{"Status:   NXDOMAIN: no such name", "Cache:    resolvers may keep this negative answer for 5s"}},
		{args: []string{"prod.svc", "--server", addr}, want: []string{"Status:   NOERROR: NODATA"}},
		{args: []string{"_http._tcp.big.prod.svc"}, want: []string{"Truncated: the answer did not fit in a UDP (EDNS, at most 1232 bytes) message",
			";; Answer over TCP", "Status:   NOERROR: the name exists and has 40 SRV record(s)."}},
		{args: []string{"example.com."}, want: []string{"Status:   REFUSED"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, _, err := run(t, append([]string{"dig"}, tc.args...)...)
			if err != nil {
				t.Fatalf("fedctl dig: %v", err)
			}
			wants(t, "fedctl dig "+strings.Join(tc.args, " "), out, tc.want...)
			// The serial is the etcd revision the server saw: the commit's
			// or a later one (progress notifications advance it).
			var serial uint32
			if i := strings.Index(out, "Serial:   "); i < 0 || tc.args[0] == "example.com." {
				return
			} else if _, err := fmt.Sscanf(out[i:], "Serial:   %d", &serial); err != nil {
				t.Fatalf("no serial in:\n%s", out)
			}
			if dnsserver.SerialLess(serial, dnsserver.SerialOf(rev)) {
				t.Errorf("serial %d before the commit's revision %d", serial, rev)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		_, _, err := run(t, "dig", "db..prod", "NOPE", "--server", "a:b", "--zone", "x..y")
		if err == nil {
			t.Fatal("bad arguments accepted")
		}
		wants(t, "error", err.Error(), `TYPE "NOPE"`, `--server "a:b"`, `--zone "x..y"`)
	})
}
