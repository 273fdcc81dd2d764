package dnsserver

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixedSource is a SnapshotSource that never changes.
type fixedSource struct {
	snap  *Snapshot
	stale bool
}

func (f fixedSource) Snapshot() *Snapshot { return f.snap }
func (f fixedSource) Stale() bool         { return f.stale }

// fixtureConfig is the server configuration of the handler tests: region eu.
func fixtureConfig() Config {
	cfg := DefaultConfig()
	cfg.Region = "eu"
	return cfg
}

// fixtureOps publishes the test zone: prod/db with five replicas in three
// regions (primary 0, sync 1, async 2, fenced 3, async not ready 4), and
// prod/mid with 20 replicas (the SRV answer fits 1232 bytes, its glue
// does not) and prod/big with 40, too many for any UDP answer.
func fixtureOps(t testing.TB, w *Writer) Ops {
	t.Helper()
	var ops Ops
	add := func(o Ops, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		ops = ops.Add(o)
	}
	add(w.PutService("prod", "db", Service{Ports: []Port{{Name: "pg", Protocol: "tcp", Port: 5432}}}))
	add(w.SetPrimary("prod", "db", nil, Primary{Ordinal: 0, Epoch: 7}))
	replicas := []Replica{
		{Cluster: "eu-1", Region: "eu", Role: RoleAsyncReplica, Ready: true, Addresses: addrs("127.12.0.2", "fd00::12:2")},
		{Cluster: "us-1", Region: "us", Role: RoleSyncStandby, Ready: true, Addresses: addrs("127.13.0.2")},
		{Cluster: "ap-1", Region: "ap", Role: RoleAsyncReplica, Ready: true, Addresses: addrs("127.14.0.2")},
		{Cluster: "eu-1", Region: "eu", Role: RoleFenced, Ready: true, Addresses: addrs("127.12.0.3")},
		{Cluster: "eu-1", Region: "eu", Role: RoleAsyncReplica, Ready: false, Addresses: addrs("127.12.0.4")},
	}
	for n, r := range replicas {
		add(w.PutReplica("prod", "db", n, r))
	}
	add(w.PutService("prod", "big", Service{Ports: []Port{{Name: "http", Protocol: "tcp", Port: 80}}}))
	for n := range 40 {
		add(w.PutReplica("prod", "big", n, Replica{Cluster: "us-1", Region: "us", Role: RoleAsyncReplica, Ready: true,
			Addresses: addrs(fmt.Sprintf("127.20.%d.%d", n/200, 2+n%200))}))
	}
	add(w.PutService("prod", "mid", Service{Ports: []Port{{Name: "http", Protocol: "tcp", Port: 80}}}))
	for n := range 20 {
		add(w.PutReplica("prod", "mid", n, Replica{Cluster: "eu-1", Region: "eu", Role: RoleAsyncReplica, Ready: true,
			Addresses: addrs(fmt.Sprintf("127.21.0.%d", 2+n))}))
	}
	return ops
}

// fixtureSnapshot applies fixtureOps at revision 42, as a watch would.
func fixtureSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	snap, errs := NewSnapshot(fixtureConfig()).Apply(42, DefaultPrefix, fixtureChanges(t))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return snap
}

// fixtureChanges are fixtureOps as the changes a watch reports.
func fixtureChanges(t testing.TB) []Change {
	t.Helper()
	w, err := NewWriter(DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}
	var changes []Change
	for _, op := range fixtureOps(t, w).Then {
		changes = append(changes, Change{Key: string(op.KeyBytes()), Value: op.ValueBytes()})
	}
	return changes
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// zoneText renders a response as zone-file text: a header line, then each
// section's records one per line.
func zoneText(m *dns.Msg, wire int) string {
	var b strings.Builder
	flags := []string{"qr"}
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	rcode := dns.RcodeToString[m.Rcode]
	if m.Rcode == dns.RcodeBadVers && m.IsEdns0() != nil {
		rcode = "BADVERS" // 16 is BADSIG in a TSIG record, BADVERS in OPT
	}
	fmt.Fprintf(&b, ";; opcode %s, rcode %s, flags %s, %d bytes\n", dns.OpcodeToString[m.Opcode],
		rcode, strings.Join(flags, " "), wire)
	for _, q := range m.Question {
		fmt.Fprintf(&b, ";; question %s\n", strings.TrimPrefix(q.String(), ";"))
	}
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
	}{{"answer", m.Answer}, {"authority", m.Ns}, {"additional", m.Extra}} {
		if len(sec.rrs) == 0 {
			continue
		}
		fmt.Fprintf(&b, ";; %s\n", sec.name)
		for _, rr := range sec.rrs {
			if o, ok := rr.(*dns.OPT); ok {
				fmt.Fprintf(&b, "; OPT udp=%d version=%d do=%v\n", o.UDPSize(), o.Version(), o.Do())
				continue
			}
			fmt.Fprintln(&b, rr.String())
		}
	}
	return b.String()
}

// golden compares got with testdata/<name>.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(name, "/", "_")+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("answer differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
