package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/dnsserver"
)

// TestDNSSurvivesGarbage runs fedstate dns with its defaults (rate limit
// on) against a real etcd, feeds its DNS port (UDP and TCP) and its
// metrics port every kind of garbage, leaves half-open connections
// hanging, and checks that it still answers the primary's name correctly
// over UDP and TCP and reports itself healthy.
func TestDNSSurvivesGarbage(t *testing.T) {
	endpoint := startEtcd(t)
	publishPrimary(t, endpoint, "127.12.0.2")
	o := &dnsOptions{}
	cmd := newDNSCommandWith(o)
	if err := cmd.Flags().Parse([]string{"--etcd-endpoints", endpoint, "--listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0", "--insecure-local"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() { done <- runDNS(ctx, o, &logs, ready); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runDNS: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("runDNS did not stop")
		}
	})
	var addrs [2]string
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("runDNS: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	dnsAddr, metricsAddr := addrs[0], addrs[1]
	for _, net := range []string{"udp", "tcp"} {
		poll(t, 10*time.Second, func() error { return answersPrimary(net, dnsAddr, "127.12.0.2") })
	}

	rng := rand.New(rand.NewPCG(3, 4))
	garbageUDP(t, rng, dnsAddr)
	garbageDNSOverTCP(t, rng, dnsAddr)
	garbageHTTP(t, rng, metricsAddr)

	select {
	case err := <-done:
		t.Fatalf("fedstate dns stopped after the garbage: %v\n%s", err, logs.String())
	default:
	}
	// TCP is not rate limited; UDP answers again once the client
	// network's budget, spent on the garbage that parsed, refills.
	if err := answersPrimary("tcp", dnsAddr, "127.12.0.2"); err != nil {
		t.Errorf("over TCP, with half-open connections hanging: %v", err)
	}
	poll(t, 5*time.Second, func() error { return answersPrimary("udp", dnsAddr, "127.12.0.2") })
	if body := get(t, "http://"+metricsAddr+"/healthz", http.StatusOK); !strings.HasPrefix(body, "ok serial=") {
		t.Errorf("/healthz after the garbage: %q", body)
	}
	// The garbage reached the handler: what parsed as a message but not
	// as a query was answered FORMERR.
	if body := get(t, "http://"+metricsAddr+"/metrics", http.StatusOK); !strings.Contains(body, `fedstate_dns_queries_total{qtype="none",rcode="FORMERR"}`) {
		t.Errorf("/metrics after the garbage counts no FORMERR answer:\n%.3000s", body)
	}
}

// TestAgentMetricsSurviveGarbage runs fedstate agent against a real etcd
// and a member API server that cannot be reached (it waits for it, serving
// its metrics meanwhile), feeds the metrics port garbage and half-open
// connections, and checks that /healthz and /metrics still answer.
func TestAgentMetricsSurviveGarbage(t *testing.T) {
	endpoint := startEtcd(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	unreachable := freeAddr(t)
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: m, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: m, user: u}}]
current-context: c
`, unreachable)), 0o600); err != nil {
		t.Fatal(err)
	}
	metricsAddr := freeAddr(t)
	root := newRootCommand()
	var logs syncBuffer
	root.SetOut(&logs)
	root.SetErr(&logs)
	root.SetArgs([]string{"agent", "--cluster", "eu-1", "--kubeconfig", kubeconfig, "--etcd-endpoints", endpoint,
		"--insecure-local", "--metrics-listen", metricsAddr, "--run-dir", t.TempDir(), "--volumes-dir", t.TempDir(), "--no-watchdog"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done: // the member never synced: an error that says so
		case <-time.After(20 * time.Second):
			t.Error("fedstate agent did not stop")
		}
	})
	poll(t, 20*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("fedstate agent stopped: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get("http://" + metricsAddr + "/healthz")
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})

	garbageHTTP(t, rand.New(rand.NewPCG(5, 6)), metricsAddr)

	select {
	case err := <-done:
		t.Fatalf("fedstate agent stopped after the garbage: %v\n%s", err, logs.String())
	default:
	}
	if body := get(t, "http://"+metricsAddr+"/healthz", http.StatusOK); body != "ok\n" {
		t.Errorf("/healthz after the garbage: %q", body)
	}
	if body := get(t, "http://"+metricsAddr+"/metrics", http.StatusOK); !strings.Contains(body, "fedstate_agent_session_up") {
		t.Errorf("/metrics after the garbage lacks the agent's metrics")
	}
}

// publishPrimary writes service prod/db with replica 0 at addr as its
// primary through the Writer, as the hub does.
func publishPrimary(t *testing.T, endpoint, addr string) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	w, err := dnsserver.NewWriter(dnsserver.DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := w.PutService("prod", "db", dnsserver.Service{Ports: []dnsserver.Port{{Name: "pg", Protocol: "tcp", Port: 5432}}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.PutReplica("prod", "db", 0, dnsserver.Replica{Cluster: "eu-1", Region: "eu", Role: dnsserver.RoleAsyncReplica,
		Ready: true, Addresses: []netip.Addr{netip.MustParseAddr(addr)}})
	if err != nil {
		t.Fatal(err)
	}
	prim, err := w.SetPrimary("prod", "db", nil, dnsserver.Primary{Ordinal: 0, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context(), cli, svc.Add(rep).Add(prim)); err != nil {
		t.Fatal(err)
	}
}

// answersPrimary asks addr over net for the primary of prod/db and wants
// exactly want, authoritatively.
func answersPrimary(net, addr, want string) error {
	c := &dns.Client{Net: net, Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion("primary.db.prod.svc.fedstate.local.", dns.TypeA)
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		return fmt.Errorf("%s: %w", net, err)
	}
	if resp.Rcode != dns.RcodeSuccess || !resp.Authoritative || resp.Truncated || len(resp.Answer) != 1 {
		return fmt.Errorf("%s: answer %v", net, resp)
	}
	if a, ok := resp.Answer[0].(*dns.A); !ok || a.A.String() != want {
		return fmt.Errorf("%s: answer %v, want %s", net, resp.Answer[0], want)
	}
	return nil
}

// malformedDNS returns DNS messages that are broken in the ways parsers
// trip on: truncated headers, counts that lie, compression loops, labels
// running past the end, and queries that are responses.
func malformedDNS(t *testing.T) [][]byte {
	t.Helper()
	valid := new(dns.Msg)
	valid.SetQuestion("primary.db.prod.svc.fedstate.local.", dns.TypeA)
	q, err := valid.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := [][]byte{{}, {0}}
	for n := 1; n < 12; n++ {
		out = append(out, q[:n]) // truncated headers
	}
	for n := 12; n < len(q); n += 3 {
		out = append(out, q[:n]) // truncated questions
	}
	header := func(qd, an, ns, ar uint16) []byte {
		b := append([]byte(nil), q[:4]...)
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(
			binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, qd), an), ns), ar)
	}
	out = append(out,
		header(1, 0, 0, 0),                        // a question announced, none there
		append(header(65535, 0, 0, 0), q[12:]...), // 65535 questions announced, one there
		append(header(1, 65535, 65535, 65535), q[12:]...),
		append(header(1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1),                 // a name pointing at itself
		append(header(1, 0, 0, 0), 0xc0, 14, 0xc0, 12, 0, 1, 0, 1),       // two names pointing at each other
		append(header(1, 0, 0, 0), 63, 'a', 'b'),                         // a label running past the end
		append(header(1, 0, 0, 0), 0x40, 'a', 0, 0, 1, 0, 1),             // a reserved label type
		append(header(1, 0, 0, 0), bytes.Repeat([]byte{1, 'a'}, 200)...), // a name longer than 255
	)
	resp := valid.Copy()
	resp.Response = true
	opts := valid.Copy()
	opts.SetEdns0(65535, true)
	opts.Extra = append(opts.Extra, opts.Extra[0], opts.Extra[0]) // three OPT records
	badVersion := valid.Copy()
	badVersion.SetEdns0(4096, false)
	badVersion.Extra[0].(*dns.OPT).SetVersion(9)
	notify := valid.Copy()
	notify.Opcode = dns.OpcodeUpdate
	for _, m := range []*dns.Msg{resp, opts, badVersion, notify} {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// randomBytes returns n random bytes.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// garbageUDP sends malformed and random datagrams, up to the largest
// UDP payload, to addr.
func garbageUDP(t *testing.T, rng *rand.Rand, addr string) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	payloads := malformedDNS(t)
	for range 300 {
		payloads = append(payloads, randomBytes(rng, rng.IntN(1500)))
	}
	payloads = append(payloads, randomBytes(rng, 65507))
	for _, p := range payloads {
		// A refused write (the largest datagram on some systems) is not
		// the server's doing.
		_, _ = c.Write(p)
	}
}

// garbageDNSOverTCP sends DNS over TCP that lies: random streams, length
// prefixes of 65535 with little or nothing behind them, zero lengths,
// malformed messages in proper frames; half of the connections are left
// open and silent until the test ends.
func garbageDNSOverTCP(t *testing.T, rng *rand.Rand, addr string) {
	t.Helper()
	frame := func(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }
	streams := [][]byte{
		{},           // connect, send nothing
		{0xff},       // half a length
		{0xff, 0xff}, // 65535 announced, nothing sent
		append([]byte{0xff, 0xff}, randomBytes(rng, 100)...), // 65535 announced, 100 sent
		{0, 0},                         // a zero-length message
		{0, 0, 0, 0, 0, 0},             // several
		frame(randomBytes(rng, 65535)), // a full-size random message
	}
	for _, m := range malformedDNS(t) {
		streams = append(streams, frame(m))
	}
	for range 40 {
		streams = append(streams, randomBytes(rng, rng.IntN(4000)))
	}
	for i, s := range streams {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %s after %d garbage connections: %v", addr, i, err)
		}
		_, _ = c.Write(s) // the server may close early
		if i%2 == 0 {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Cleanup(func() { _ = c.Close() })
	}
}

// garbageHTTP sends an HTTP server random streams, a request whose
// headers never end, a request line of a megabyte, a body that is
// announced and never sent, and half-open requests left hanging.
func garbageHTTP(t *testing.T, rng *rand.Rand, addr string) {
	t.Helper()
	streams := [][]byte{
		{},
		[]byte("GET /metr"),
		[]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"),
		[]byte("GET /" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\n\r\n"),
		[]byte("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\nab"),
		[]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"),
		[]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + string(randomBytes(rng, 100))),
		[]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), // a TLS hello to a plaintext port
	}
	for range 30 {
		streams = append(streams, randomBytes(rng, rng.IntN(3000)))
	}
	for i, s := range streams {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %s after %d garbage connections: %v", addr, i, err)
		}
		_, _ = c.Write(s) // the server may close early
		if i%2 == 0 {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Cleanup(func() { _ = c.Close() })
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
