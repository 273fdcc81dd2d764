package main

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedstate/fedstate/federation/drill/load"
)

// TestLoadHelp: every flag is explained and there are examples.
func TestLoadHelp(t *testing.T) {
	out, _, err := run(t, "load", "--help")
	if err != nil {
		t.Fatalf("fedctl load --help: %v", err)
	}
	wants(t, "load --help", out, "Examples:", "fedctl load demo/pg", "primary.<name>.<ns>.svc.<zone>", "readonly", "downtime")
	cmd, _, err := newRootCommand().Find([]string{"load"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"namespace", "dns-server", "zone", "port", "rate", "reads", "duration", "table", "user",
		"password-file", "database", "op-timeout", "gap-threshold", "progress-interval", "output"} {
		if f := cmd.Flags().Lookup(name); f == nil || len(f.Usage) < 20 {
			t.Errorf("fedctl load --%s: missing or unexplained", name)
		}
	}
}

// TestLoadArguments: every bad argument is reported at once, by flag.
func TestLoadArguments(t *testing.T) {
	_, _, err := run(t, "load", "Demo/pg/x", "--dns-server", "nohost", "--rate", "-1", "--reads", "-2", "--table", "a b",
		"--zone", "A..", "-o", "yaml", "--duration", "-1s", "--op-timeout", "0", "--user", "", "--password-file", "/nonexistent")
	if err == nil {
		t.Fatal("bad arguments accepted")
	}
	wants(t, "the error", err.Error(), `SERVICE "Demo/pg/x"`, `--dns-server "nohost"`, "--rate -1", "--reads -2", `--table "a b"`,
		`--zone "A.."`, `-o "yaml"`, "--duration -1s", "--op-timeout 0s", "--user: must be set", "--password-file")
	if strings.Contains(err.Error(), "namespace") || strings.Count(err.Error(), "--zone") != 1 {
		t.Errorf("an argument reported twice:\n%v", err)
	}
}

// TestLoadWithoutDNSServer runs the command against a DNS server that is
// not there: every write fails as dns, the summary says so, and the
// command fails.
func TestLoadWithoutDNSServer(t *testing.T) {
	out, stderr, err := run(t, "load", "demo/pg", "--dns-server", "127.0.0.1:1", "--duration", "700ms", "--progress-interval", "300ms", "-o", "json")
	if err == nil || !strings.Contains(err.Error(), "no write was acknowledged") {
		t.Fatalf("err %v, want no write was acknowledged", err)
	}
	var r loadReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if r.Writes.OK != 0 || r.Writes.Errors["dns"] == 0 || r.Writes.Failed != r.Writes.Errors["dns"] || len(r.Gaps) != 1 || !r.Gaps[0].Open {
		t.Errorf("summary %+v: want only dns errors and one open gap", r)
	}
	wants(t, "stderr", stderr, "Writing 20 rows a second through primary.pg.demo.svc.fedstate.local. (DNS 127.0.0.1:1)", "writes 0 ok", "primary -")
}

// TestRenderLoadGolden renders a fixed run as text and JSON and compares
// them with testdata/load.<format>.golden; -update rewrites them.
func TestRenderLoadGolden(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	a, b := netip.MustParseAddrPort("127.12.0.2:5432"), netip.MustParseAddrPort("127.13.0.2:5432")
	var ops []load.Op
	for i := range 100 {
		ms := 50 * i
		op := load.Op{Kind: load.Write, ID: int64(i + 1), Invoke: at(ms), Return: at(ms + 2 + i%3), Outcome: load.OK, Addr: a}
		switch {
		case ms >= 2000 && ms < 2400:
			op.Outcome, op.Err = load.ErrReadOnly, "read-only"
		case ms >= 2400 && ms < 2600:
			op.Outcome, op.Err, op.Addr = load.ErrDNS, "SERVFAIL", netip.AddrPort{}
		case ms >= 2600:
			op.Addr = b
		}
		ops = append(ops, op)
		if i%10 == 0 {
			ops = append(ops, load.Op{Kind: load.Read, ID: int64(i), Invoke: at(ms), Return: at(ms + 1), Outcome: load.OK, Addr: b})
		}
	}
	cfg := load.DefaultConfig()
	cfg.Namespace, cfg.Service, cfg.RunID, cfg.ReadRate = "demo", "pg", "20260301t120000-0a1b2c3d", 2
	s := load.Analyze(ops, start, at(5000), 500*time.Millisecond)
	for _, format := range []string{"text", formatJSON} {
		t.Run(format, func(t *testing.T) {
			got, err := renderLoad(format, cfg, s)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "load."+format+".golden"), got)
		})
	}
	if _, err := renderLoad("yaml", cfg, s); err == nil {
		t.Error("format yaml accepted")
	}
	if got, want := progressOf(s), "      5s  writes 88 ok, 12 failed  primary 127.13.0.2:5432  p99 4.0 ms"; got != want {
		t.Errorf("progress line\n%q, want\n%q", got, want)
	}
}
