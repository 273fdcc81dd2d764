package dnsserver

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// tool returns the path of an interoperability client or fails the test
// with the package to install (.ci/run installs both).
func tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed for the interoperability tests: apt-get install %s", name, pkg)
	}
	return p
}

// run runs a client with a deadline and returns its output.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// records parses zone-file lines (dig/kdig +noall +answer) into records.
func records(t *testing.T, out string) []dns.RR {
	t.Helper()
	var rrs []dns.RR
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

func TestInteropDigAndKdig(t *testing.T) {
	dig := tool(t, "dig", "bind9-dnsutils")
	kdig := tool(t, "kdig", "knot-dnsutils")
	const prefix = "/it-interop/"
	s := startServer(t, transferConfig(prefix))
	publish(t, prefix)
	poll(t, 5*time.Second, "records served", func() error { return s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess) })
	host, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		t.Fatal(err)
	}

	// dig reads the role- and locality-ordered SRV set with its glue.
	out := run(t, dig, "@"+host, "-p", port, "+norecurse", "+noall", "+answer", "+additional", "SRV", "_pg._tcp.db.prod.svc."+z)
	got := records(t, out)
	if len(got) != 7 || got[0].(*dns.SRV).Priority != PriorityPrimary || got[0].(*dns.SRV).Weight != WeightLocal ||
		got[1].(*dns.SRV).Priority != PrioritySync || got[2].(*dns.SRV).Priority != PriorityAsync {
		t.Errorf("dig SRV:\n%s", out)
	}
	// The UDP answer is truncated: dig reports it when told not to retry...
	if out := run(t, dig, "@"+host, "-p", port, "+ignore", "+noedns", "SRV", "_http._tcp.big.prod.svc."+z); !strings.Contains(out, " tc") {
		t.Errorf("dig +ignore saw no TC flag:\n%s", out)
	}
	// ...and retries over TCP by itself for the full set.
	if got := records(t, run(t, dig, "@"+host, "-p", port, "+noall", "+answer", "SRV", "_http._tcp.big.prod.svc."+z)); len(got) != 40 {
		t.Errorf("dig after TCP retry: %d records, want 40", len(got))
	}
	// Status lines of negative and EDNS answers.
	for _, c := range []struct {
		args []string
		want string
	}{
		{args: []string{"A", "nope.prod.svc." + z}, want: "status: NXDOMAIN"},
		{args: []string{"A", "us-1.db.prod.svc." + z}, want: "status: NOERROR"},
		{args: []string{"+edns=1", "A", "db.prod.svc." + z}, want: "status: BADVERS"},
		{args: []string{"A", "example.com."}, want: "status: REFUSED"},
		{args: []string{"ANY", "db.prod.svc." + z}, want: "RFC8482"},
	} {
		out := run(t, kdig, append([]string{"@" + host, "-p", port}, c.args...)...)
		if !strings.Contains(out, c.want) {
			t.Errorf("kdig %v: no %q in\n%s", c.args, c.want, out)
		}
	}
	// kdig verifies the signature of the answer to a signed query, and
	// shows the TSIG error of a query signed with an unknown key (NOTAUTH
	// and BADKEY, which it prints as the status).
	key := "hmac-sha256:" + tsigName + ":" + tsigSecret
	if out := run(t, kdig, "@"+host, "-p", port, "-y", key, "SOA", z); !strings.Contains(out, "status: NOERROR") || strings.Contains(out, "WARNING") {
		t.Errorf("kdig signed SOA query:\n%s", out)
	}
	if out := run(t, kdig, "@"+host, "-p", port, "-y", "hmac-sha256:unknown.:"+tsigSecret, "SOA", z); !strings.Contains(out, "status: BADKEY") {
		t.Errorf("kdig query signed with an unknown key:\n%s", out)
	}
	// kdig transfers the zone with TSIG; it matches the snapshot.
	out = run(t, kdig, "@"+host, "-p", port, "-y", "hmac-sha256:"+tsigName+":"+tsigSecret, "+noall", "+answer", "AXFR", z)
	got = records(t, out)
	snap := s.srv.Source().Snapshot()
	if want := append(snap.Records(), snap.soa(false)); rrText(got) != rrText(want) {
		t.Errorf("kdig AXFR: %d records, want %d", len(got), len(want))
	}
}
