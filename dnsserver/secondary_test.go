package dnsserver

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// knot is a Knot DNS server (Debian package knot) running as a secondary
// of one of our servers, with its configuration and data in a temporary
// directory.
type knot struct {
	addr string
	log  *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
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

// knotConfig is a knotd configuration: a secondary of primary for zone z,
// transferring with the test TSIG key and accepting NOTIFY from loopback.
const knotConfig = `server:
    rundir: "%[1]s"
    listen: %[2]s@%[3]s
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    identity: ""
    version: ""
log:
  - target: stderr
    any: info
database:
    storage: "%[1]s"
control:
    listen: "%[1]s/knot.sock"
key:
  - id: %[4]s
    algorithm: hmac-sha256
    secret: %[5]s
remote:
  - id: primary
    address: %[6]s@%[7]s
    key: %[4]s
acl:
  - id: notify-from-primary
    address: 127.0.0.0/8
    action: notify
zone:
  - domain: %[8]s
    storage: "%[1]s"
    master: primary
    acl: notify-from-primary
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
`

// startKnot runs knotd as a secondary of the server at primary on addr
// until the test ends. It fails the test, naming the package, when knotd
// is not installed.
func startKnot(t *testing.T, addr, primary string) *knot {
	t.Helper()
	bin, err := exec.LookPath("knotd")
	if err != nil {
		bin = "/usr/sbin/knotd" // Debian installs it outside a user's PATH
		if _, serr := os.Stat(bin); serr != nil {
			t.Fatalf("knotd is needed for the secondary interoperability test: apt-get install knot (%v)", err)
		}
	}
	dir := t.TempDir()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	phost, pport, err := net.SplitHostPort(primary)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "knot.conf")
	text := fmt.Sprintf(knotConfig, dir, host, port, strings.TrimSuffix(tsigName, "."), tsigSecret, phost, pport, z)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &knot{addr: addr, log: &syncBuffer{}}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = k.log, k.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start knotd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("knotd did not stop on SIGTERM; log:\n%s", k.log)
		}
		if t.Failed() {
			t.Logf("knotd log:\n%s", k.log)
		}
	})
	return k
}

// waitLog waits until knotd's log after byte from holds a line with every
// one of parts.
func (k *knot) waitLog(t *testing.T, from int, what string, parts ...string) {
	t.Helper()
	poll(t, 5*time.Second, what, func() error {
		for _, line := range strings.Split(k.log.String()[from:], "\n") {
			if containsAll(line, parts) {
				return nil
			}
		}
		return fmt.Errorf("no log line with %q", parts)
	})
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// serial asks the secondary for the zone's SOA serial; an error until it
// has loaded the zone.
func (k *knot) serial() (uint32, error) {
	_, resp, err := exchange(k.addr, false, query{name: z, qtype: dns.TypeSOA}.msg())
	if err != nil {
		return 0, err
	}
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
		return 0, fmt.Errorf("SOA: rcode %s, %d answers", dns.RcodeToString[resp.Rcode], len(resp.Answer))
	}
	return resp.Answer[0].(*dns.SOA).Serial, nil
}

// TestSecondaryKnot runs Knot DNS as a secondary of our server: it takes
// the zone by AXFR, takes a change made through the Writer by IXFR after
// our NOTIFY, and then answers every name of the zone as we do.
func TestSecondaryKnot(t *testing.T) {
	const prefix = "/it-secondary/"
	knotAddr := freeAddr()
	cfg := transferConfig(prefix)
	cfg.NotifyTargets = []netip.AddrPort{netip.MustParseAddrPort(knotAddr)}
	s := startServer(t, cfg)
	w, rev := publish(t, prefix)
	poll(t, 5*time.Second, "records served", func() error { return s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess) })

	k := startKnot(t, knotAddr, s.addr)
	poll(t, 20*time.Second, "knotd loads the zone", func() error {
		serial, err := k.serial()
		if err == nil && SerialLess(serial, SerialOf(rev)) {
			err = fmt.Errorf("serial %d before revision %d", serial, rev)
		}
		return err
	})
	// knotd's log reaches us through a pipe and a copying goroutine: the
	// line may arrive a moment after the zone is served.
	k.waitLog(t, 0, "knotd took the zone by AXFR", "AXFR, incoming")
	sameAnswers(t, s, k)

	// A primary flip, the old primary fenced and a replica removed, in one
	// transaction through the Writer.
	flip, err := w.SetPrimary("prod", "db", &Primary{Ordinal: 0, Epoch: 7}, Primary{Ordinal: 1, Epoch: 8})
	if err != nil {
		t.Fatal(err)
	}
	demote, err := w.PutReplica("prod", "db", 0, Replica{Cluster: "eu-1", Region: "eu", Role: RoleFenced, Ready: true, Addresses: addrs("127.12.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	drop, err := w.DeleteReplica("prod", "db", 4)
	if err != nil {
		t.Fatal(err)
	}
	cli := etcd.client(t)
	mark := len(k.log.String())
	resp, err := cli.Txn(t.Context()).If(flip.If...).Then(flip.Add(demote).Add(drop).Then...).Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("flip: %v (succeeded %v)", err, resp != nil && resp.Succeeded)
	}
	changed := SerialOf(resp.Header.Revision)
	// The SOA refresh timer (soaRefresh) is far longer than this deadline:
	// only the NOTIFY makes the secondary transfer in time.
	poll(t, 10*time.Second, "knotd takes the change", func() error {
		serial, err := k.serial()
		if err == nil && SerialLess(serial, changed) {
			err = fmt.Errorf("serial %d before the change's %d", serial, changed)
		}
		return err
	})
	k.waitLog(t, mark, "knotd logged an incoming NOTIFY", "notify, incoming")
	k.waitLog(t, mark, "knotd logged the finished transfer", "IXFR, incoming", "finished")
	log := k.log.String()[mark:]
	// knotd asks for IXFR; our journal holds the previous version, so the
	// answer is the difference, not the whole zone (AXFR-style IXFR).
	if !strings.Contains(log, "IXFR, incoming") || strings.Contains(log, "AXFR-style") || strings.Contains(log, "AXFR, incoming") {
		t.Errorf("knotd did not take the change by incremental IXFR")
	}
	if n := s.counter("fedstate_dns_transfers_total", transferDifferences); n < 1 {
		t.Errorf("%v IXFR answered with differences, want at least 1", n)
	}
	if err := s.wantA("primary.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, s, k)
}

// sameAnswers queries our server and the secondary for every owner name
// of the zone, each type we serve and a few names that do not exist, over
// TCP (no truncation), and requires the same rcode, flags, answer and
// authority sections and additional records.
func sameAnswers(t *testing.T, s *testServer, k *knot) {
	t.Helper()
	owners := map[string]bool{}
	for _, rr := range s.srv.Source().Snapshot().Records() {
		owners[rr.Header().Name] = true
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range owners {
			if !yield(n) {
				return
			}
		}
	})
	names = append(names, "nope.prod.svc."+z, "x.db-1.db.prod.svc."+z, "us-1.db.prod.svc."+z, "_tcp.db.prod.svc."+z,
		"prod.svc."+z, "svc."+z, "db-9.db.prod.svc."+z, "DB-1.Db.PROD.svc.FedState.LOCAL.")
	var compared int
	for _, name := range names {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT, dns.TypeSOA, dns.TypeNS} {
			q := query{name: name, qtype: qtype, edns: 1232, tcp: true}
			_, ours, err := exchange(s.addr, true, q.msg())
			if err != nil {
				t.Fatalf("ours %s %s: %v", name, dns.TypeToString[qtype], err)
			}
			_, theirs, err := exchange(k.addr, true, q.msg())
			if err != nil {
				t.Fatalf("knotd %s %s: %v", name, dns.TypeToString[qtype], err)
			}
			// Owner names compare without case: knotd compresses names
			// against the question as asked, we write them in lower case.
			if a, b := comparable(ours), comparable(theirs); !strings.EqualFold(a, b) {
				t.Errorf("%s %s differs:\n--- ours\n%s--- knotd\n%s", name, dns.TypeToString[qtype], a, b)
			}
			compared++
		}
	}
	t.Logf("%d queries answered alike by our server and knotd", compared)
}

// comparable renders what must agree between two authoritative servers of
// the same zone: rcode, AA, and each section as a sorted set of records.
func comparable(m *dns.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rcode %s aa %v tc %v\n", dns.RcodeToString[m.Rcode], m.Authoritative, m.Truncated)
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
	}{{"answer", m.Answer}, {"authority", m.Ns}, {"additional", m.Extra}} {
		var lines []string
		for _, rr := range sec.rrs {
			if rr.Header().Rrtype != dns.TypeOPT {
				lines = append(lines, rr.String())
			}
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, ";; %s\n", sec.name)
		for _, l := range lines {
			fmt.Fprintln(&b, l)
		}
	}
	return b.String()
}
