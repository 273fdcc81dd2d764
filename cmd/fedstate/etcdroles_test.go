package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/replication/coord"
)

// TestEtcdRolesHelpExplainsEveryFlag: every flag of fedstate etcd-roles is
// in --help with a real explanation.
func TestEtcdRolesHelpExplainsEveryFlag(t *testing.T) {
	helpExplainsEveryFlag(t, "etcd-roles", 10)
}

// TestEtcdRolesDryRun: --dry-run prints the plan for the given prefixes
// and clusters without any etcd to connect to.
func TestEtcdRolesDryRun(t *testing.T) {
	out := runCommand(t, "etcd-roles", "--dry-run", "--cluster", "eu-1", "--etcd-prefix", "/a/coord/", "--dns-prefix", "/a/dns/")
	for _, want := range []string{
		"role fedstate-hub: readwrite prefix /a/coord/; readwrite prefix /a/dns/\n",
		"role fedstate-agent: read prefix /a/coord/; read prefix /a/dns/; readwrite prefix /a/coord/services/\n",
		"role fedstate-agent-eu-1: readwrite key /a/coord/agents/agent-eu-1\n",
		"role fedstate-dns: read prefix /a/dns/\n",
		"user agent-eu-1 (no password: certificate common name agent-eu-1): roles fedstate-agent, fedstate-agent-eu-1\n",
		"user root (no password: certificate common name root): roles root\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

// TestEtcdRolesRefusesBadFlags: bad prefixes, clashing users and a root
// connection without TLS are refused before anything is written, every
// problem at once.
func TestEtcdRolesRefusesBadFlags(t *testing.T) {
	var out bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"etcd-roles", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-prefix", "/fed/",
		"--dns-prefix", "/fed/dns/", "--hub-user", "agent-eu-1", "--cluster", "eu-1,Bad_Name"})
	err := cmd.Execute()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"overlap", `"agent-eu-1": also the user of --hub-user`, `"agent-Bad_Name": not a DNS-1123 label`,
		"--etcd-ca: required", "plaintext", "no client certificate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if out.Len() > 0 {
		t.Errorf("printed %q before refusing", out.String())
	}
}

// TestEtcdRolesNarrowEachComponent runs the test bed's etcd binary with
// TLS and --client-cert-auth, runs fedstate etcd-roles (twice: the second
// run changes nothing), and then uses each component's real code with its
// own certificate: the hub promotes and publishes DNS records, the agent
// takes its session, a primary lease and reports but is refused the DNS
// records, the election keys and other agents' keys, the DNS server reads
// and watches its records and writes nothing, and clients without a
// certificate of the CA are refused at TLS.
func TestEtcdRolesNarrowEachComponent(t *testing.T) {
	pki := newRolesPKI(t, "root", "fedstate-hub", "agent-eu-1", "fedstate-dns", "intruder")
	endpoint := startTLSEtcdBinary(t, pki)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute) // every request below is small
	defer cancel()

	rolesArgs := []string{"etcd-roles", "--etcd-endpoints", endpoint, "--etcd-ca", pki.ca,
		"--etcd-cert", pki.cert["root"], "--etcd-key", pki.key["root"], "--cluster", "eu-1,us-1"}
	first := runCommand(t, rolesArgs...)
	t.Logf("first run:\n%s", first)
	for _, want := range []string{"role fedstate-agent-eu-1: created", "user agent-us-1: created (no password)",
		"user root: granted role root", "auth: enabled"} {
		if !strings.Contains(first, want) {
			t.Errorf("first run does not say %q", want)
		}
	}
	second := runCommand(t, rolesArgs...)
	if strings.Contains(second, "created") || strings.Contains(second, "granted") || !strings.Contains(second, "auth: already enabled") {
		t.Errorf("second run changed something:\n%s", second)
	}

	svc := coord.Service{Namespace: "shop", Name: "db"}
	dnsw, err := dnsserver.NewWriter(dnsserver.DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}

	// (a) The hub campaigns, promotes with its DNS records, commands.
	hub := connectAs(t, endpoint, pki, "fedstate-hub")
	leader, err := hub.Campaign(ctx, "hub-0")
	if err != nil {
		t.Fatalf("hub campaign: %v", err)
	}
	ops, err := dnsw.SetPrimary(svc.Namespace, svc.Name, nil, dnsserver.Primary{Ordinal: 0, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := hub.Promote(ctx, coord.PromoteRequest{Service: svc, Leader: leader.Guard(), NewPrimary: 0,
		DNS: ops.Add(replicaRecord(t, dnsw, svc, 0))})
	if err != nil || res.Epoch != 1 {
		t.Fatalf("hub promotion: epoch %d, %v", res.Epoch, err)
	}
	cmd := coord.Command{Kind: coord.CommandInit, Epoch: 1, Primary: 0, Cluster: "eu-1", Issued: time.Now()}
	if err := hub.PutCommands(ctx, svc, leader.Guard(), 1, map[int]coord.Command{0: cmd}); err != nil {
		t.Fatalf("hub commands: %v", err)
	}

	// (b) The agent of eu-1: its session, its command, a primary lease, a
	// report; then what it must not do.
	agentStore := connectAs(t, endpoint, pki, "agent-eu-1")
	agent, err := agentStore.StartAgent(ctx, "agent-eu-1", "eu-1")
	if err != nil {
		t.Fatalf("agent session: %v", err)
	}
	if cmds, _, err := agentStore.CommandsFor(ctx, "eu-1"); err != nil || len(cmds[svc]) != 1 {
		t.Fatalf("agent reads its commands: %v, %v", cmds, err)
	}
	lease, err := agent.HoldPrimary(ctx, svc, 0, 1)
	if err != nil {
		t.Fatalf("agent primary lease: %v", err)
	}
	if err := agent.Report(ctx, svc, 0, coord.Report{Role: coord.RolePrimary, Epoch: 1, Time: time.Now()}); err != nil {
		t.Fatalf("agent report: %v", err)
	}
	refused := map[string]error{
		"DNS record": dnsw.Commit(ctx, agentStore.Client(), replicaRecord(t, dnsw, svc, 1)),
		"another agent's liveness key": func() error {
			_, err := agentStore.StartAgent(ctx, "agent-us-1", "us-1")
			return err
		}(),
		"hub election": func() error {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a permitted campaign would wait for the hub
			defer cancel()
			_, err := agentStore.Campaign(cctx, "not-a-hub")
			return err
		}(),
	}
	for what, err := range refused {
		if !errors.Is(err, rpctypes.ErrPermissionDenied) {
			t.Errorf("agent writing %s: %v, want permission denied", what, err)
		}
	}
	// The agent's epoch and primary keys share services/<ns>/<svc>/ with
	// its lease and reports: its role cannot forbid them (docs/security.md).
	if err := lease.Release(ctx); err != nil {
		t.Errorf("agent releases its lease: %v", err)
	}
	if err := agent.Close(ctx); err != nil {
		t.Errorf("agent ends its session: %v", err)
	}

	// (c) The DNS server reads and watches the records and writes nothing.
	dns := clientAs(t, endpoint, pki, "fedstate-dns")
	got, err := dns.Get(ctx, dnsserver.DefaultPrefix, clientv3.WithPrefix())
	if err != nil || len(got.Kvs) != 2 {
		t.Fatalf("dns reads the records: %v, %v", got, err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	watch := dns.Watch(clientv3.WithRequireLeader(wctx), dnsserver.DefaultPrefix, clientv3.WithPrefix(), clientv3.WithRev(got.Header.Revision+1))
	if err := hub.PublishDNS(ctx, leader.Guard(), replicaRecord(t, dnsw, svc, 1)); err != nil {
		t.Fatalf("hub publishes: %v", err)
	}
	wr := <-watch
	if err := wr.Err(); err != nil || len(wr.Events) != 1 {
		t.Fatalf("dns watch: %d events, %v", len(wr.Events), err)
	}
	for what, err := range map[string]error{
		"a DNS record": dnsw.Commit(ctx, dns, replicaRecord(t, dnsw, svc, 2)),
		"a coordination key": func() error {
			_, err := dns.Put(ctx, coord.ServicePrefix(coord.DefaultPrefix, svc)+"epoch", "9")
			return err
		}(),
		"the coordination keys (read)": func() error {
			_, err := dns.Get(ctx, coord.DefaultPrefix, clientv3.WithPrefix())
			return err
		}(),
	} {
		if !errors.Is(err, rpctypes.ErrPermissionDenied) {
			t.Errorf("dns writing %s: %v, want permission denied", what, err)
		}
	}

	// A certificate of the CA whose name is no user gets nothing.
	if _, err := clientAs(t, endpoint, pki, "intruder").Get(ctx, "/", clientv3.WithPrefix()); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("unknown user reads: %v, want permission denied", err)
	}

	// (d) No certificate, or one of another CA: refused in the handshake.
	other := newRolesPKI(t, "fedstate-hub")
	addr := strings.TrimPrefix(endpoint, "https://")
	for _, tc := range []struct {
		name  string
		certs []tls.Certificate
		want  string
	}{
		{name: "no certificate", want: "tls: certificate required"},
		{name: "another CA's certificate", certs: []tls.Certificate{other.pair(t, "fedstate-hub")}, want: "tls: unknown certificate authority"},
	} {
		if err := handshake(addr, pki.pool(t), tc.certs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	cfg := coord.DefaultConfig()
	cfg.Endpoints, cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.DialTimeout = []string{endpoint}, pki.ca, other.cert["fedstate-hub"], other.key["fedstate-hub"], 2*time.Second
	if st, err := coord.Connect(ctx, cfg); err == nil {
		st.Close()
		t.Error("the hub's code connected with another CA's certificate")
	}
}

// replicaRecord is the DNS record of replica n of svc in eu-1.
func replicaRecord(t *testing.T, w *dnsserver.Writer, svc coord.Service, n int) dnsserver.Ops {
	t.Helper()
	ops, err := w.PutReplica(svc.Namespace, svc.Name, n, dnsserver.Replica{Cluster: "eu-1", Region: "eu",
		Addresses: []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, byte(10 + n)})}, Role: dnsserver.RoleSyncStandby, Ready: true})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// runCommand runs fedstate with args and returns what it printed.
func runCommand(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&out)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("fedstate %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// connectAs connects the coordination store, as the hub and the agents
// do, with user's certificate.
func connectAs(t *testing.T, endpoint string, pki rolesPKI, user string) *coord.Store {
	t.Helper()
	cfg := coord.DefaultConfig()
	cfg.Endpoints, cfg.CAFile, cfg.CertFile, cfg.KeyFile = []string{endpoint}, pki.ca, pki.cert[user], pki.key[user]
	cfg.Logger = zap.NewNop()
	st, err := coord.Connect(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clientAs connects as fedstate dns does, with user's certificate.
func clientAs(t *testing.T, endpoint string, pki rolesPKI, user string) *clientv3.Client {
	t.Helper()
	o := &dnsOptions{endpoints: []string{endpoint}, dialTimeout: 5 * time.Second,
		etcdCA: pki.ca, etcdCert: pki.cert[user], etcdKey: pki.key[user]}
	cli, err := o.etcdClient()
	if err != nil {
		t.Fatalf("client as %s: %v", user, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// handshake opens a TLS connection to addr with certs and reads from it:
// under TLS 1.3 the server judges the client's certificate after the
// client's side of the handshake is done, and says so in an alert.
func handshake(addr string, roots *x509.CertPool, certs []tls.Certificate) error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	_, err = conn.Read(make([]byte, 1))
	return err
}
