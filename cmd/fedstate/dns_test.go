package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/fedstate/fedstate/dnsserver"
)

func TestDNSHelpExplainsEveryFlag(t *testing.T) { helpExplainsEveryFlag(t, "dns", 20) }

// helpExplainsEveryFlag checks that --help of the subcommand lists every
// flag, each with an explanation, and that there are at least min.
func helpExplainsEveryFlag(t *testing.T, sub string, min int) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{sub, "--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	subCmd, _, err := cmd.Find([]string{sub})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	subCmd.Flags().VisitAll(func(f *pflag.Flag) {
		n++
		if f.Name == "help" {
			return // cobra's own
		}
		if len(f.Usage) < 20 {
			t.Errorf("--%s: usage %q does not explain the flag", f.Name, f.Usage)
		}
		if !strings.Contains(out.String(), "--"+f.Name+" ") {
			t.Errorf("--%s missing from --help", f.Name)
		}
	})
	if n < min {
		t.Errorf("only %d flags", n)
	}
}

func TestDNSOptionsConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr []string
		check   func(t *testing.T, o *dnsOptions)
	}{
		{name: "defaults refuse a plaintext etcd", wantErr: []string{"http://127.0.0.1:2379: plaintext", "no client certificate", "--insecure-local"}},
		{name: "defaults are valid on one machine", args: []string{"--insecure-local"},
			check: func(t *testing.T, o *dnsOptions) {
				cfg, err := o.config()
				if err != nil {
					t.Fatal(err)
				}
				if cfg.RateLimit != 100 || cfg.RateLimitSlip != 2 || len(cfg.TransferFrom) != 0 {
					t.Errorf("rate limit %d slip %d transfers %v; want 100, 2, none", cfg.RateLimit, cfg.RateLimitSlip, cfg.TransferFrom)
				}
			}},
		{name: "TLS with a client certificate", args: []string{"--etcd-endpoints", "https://etcd-0:2379,https://etcd-1:2379",
			"--etcd-ca", "ca.pem", "--etcd-cert", "dns.pem", "--etcd-key", "dns-key.pem"}},
		{name: "TLS without a client certificate", args: []string{"--etcd-endpoints", "https://etcd-0:2379"},
			wantErr: []string{"no client certificate (--etcd-cert, --etcd-key)", "--insecure-local"}},
		{name: "one machine means loopback", args: []string{"--insecure-local", "--etcd-endpoints", "http://10.0.0.1:2379,127.0.0.1:2379"},
			wantErr: []string{"http://10.0.0.1:2379: plaintext to a host other than loopback", `"127.0.0.1:2379": not an http:// or https:// URL`}},
		{name: "transfers need TSIG", args: []string{"--etcd-endpoints", "https://etcd-0:2379", "--etcd-cert", "dns.pem", "--etcd-key", "dns-key.pem",
			"--transfer-from", "192.0.2.0/24"},
			wantErr: []string{"--transfer-from without a TSIG key", "--tsig-key-file"}},
		{name: "unsigned transfers on one machine", args: []string{"--insecure-local", "--transfer-from", "127.0.0.0/8"}},
		{name: "name servers and region", args: []string{"--insecure-local", "--nameserver", "ns1.fedstate.local.=127.0.0.1,::1",
			"--nameserver", "ns.example.", "--region", "eu-west", "--ttl", "30s"},
			check: func(t *testing.T, o *dnsOptions) {
				cfg, err := o.config()
				if err != nil {
					t.Fatal(err)
				}
				if len(cfg.NameServers) != 2 || len(cfg.NameServers[0].Addrs) != 2 || cfg.Region != "eu-west" || cfg.TTL != 30*time.Second {
					t.Errorf("config %+v", cfg)
				}
			}},
		{name: "every bad flag reported at once", args: []string{"--zone", "Example.com", "--ttl", "1500ms",
			"--stale-after", "1s", "--progress-interval", "2s", "--metrics-listen", "localhost", "--etcd-cert", "c.pem"},
			wantErr: []string{`zone "Example.com"`, "ttl 1.5s", "progressInterval 2s", `--metrics-listen "localhost"`, "--etcd-cert and --etcd-key"}},
		{name: "transfers", args: []string{"--insecure-local", "--transfer-from", "127.0.0.0/8,::1/128", "--tsig-key", "xfr.fedstate.local.:c2VjcmV0",
			"--notify", "127.0.0.1:5300"},
			check: func(t *testing.T, o *dnsOptions) {
				cfg, err := o.config()
				if err != nil {
					t.Fatal(err)
				}
				if len(cfg.TransferFrom) != 2 || cfg.TSIGKeys["xfr.fedstate.local."] != "c2VjcmV0" || len(cfg.NotifyTargets) != 1 {
					t.Errorf("config %+v", cfg)
				}
			}},
		{name: "bad transfer flags", args: []string{"--transfer-from", "10.0.0.0", "--tsig-key", "nokey", "--notify", "127.0.0.1"},
			wantErr: []string{`--transfer-from "10.0.0.0"`, `--tsig-key: want NAME:BASE64SECRET`, `--notify "127.0.0.1"`}},
		{name: "TSIG keys from a file", args: []string{"--insecure-local", "--tsig-key-file", "testdata/tsig.keys", "--tsig-key", "c.:Yw=="},
			check: func(t *testing.T, o *dnsOptions) {
				cfg, err := o.config()
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]string{"xfr.fedstate.local.": "c2VjcmV0", "xfr2.fedstate.local.": "b3RoZXI=", "c.": "Yw=="}
				if !maps.Equal(cfg.TSIGKeys, want) {
					t.Errorf("TSIG keys %v, want %v", cfg.TSIGKeys, want)
				}
			}},
		{name: "missing TSIG key file", args: []string{"--tsig-key-file", "testdata/none"}, wantErr: []string{"--tsig-key-file: open testdata/none"}},
		{name: "in-zone name server without address", args: []string{"--insecure-local", "--nameserver", "ns2.fedstate.local."},
			wantErr: []string{`"ns2.fedstate.local.": in the zone, so it needs Addrs`}},
		{name: "bad name server address", args: []string{"--nameserver", "ns.example.=300.1.1.1"},
			wantErr: []string{`--nameserver "ns.example.=300.1.1.1"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := &dnsOptions{}
			cmd := newDNSCommandWith(o)
			if err := cmd.Flags().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			_, err := o.config()
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v\ndoes not mention %q", err, want)
				}
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

// TestDNSServesAndShutsDown runs fedstate dns against a real embedded etcd:
// it answers, reports health and metrics, and stops cleanly on cancel.
func TestDNSServesAndShutsDown(t *testing.T) {
	endpoint := startEtcd(t)
	o := &dnsOptions{}
	cmd := newDNSCommandWith(o)
	if err := cmd.Flags().Parse([]string{"--etcd-endpoints", endpoint, "--listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0", "--region", "eu", "--insecure-local"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- runDNS(ctx, o, &logs, ready) }()
	var addrs [2]string
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("runDNS: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	c := &dns.Client{Timeout: time.Second}
	poll(t, 10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("fedstate.local.", dns.TypeSOA)
		resp, _, err := c.Exchange(m, addrs[0])
		if err == nil && (resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1) {
			return fmt.Errorf("SOA answer %v", resp)
		}
		return err
	})
	if body := get(t, "http://"+addrs[1]+"/healthz", http.StatusOK); !strings.HasPrefix(body, "ok serial=") {
		t.Errorf("/healthz: %q", body)
	}
	// The server counts a query after writing its answer: poll.
	poll(t, 5*time.Second, func() error {
		if body := get(t, "http://"+addrs[1]+"/metrics", http.StatusOK); !strings.Contains(body, `fedstate_dns_queries_total{qtype="SOA",rcode="NOERROR"}`) ||
			!strings.Contains(body, "fedstate_dns_snapshot_serial") {
			return fmt.Errorf("/metrics lacks the DNS metrics:\n%.2000s", body)
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runDNS after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runDNS did not stop after cancel")
	}
	if !strings.Contains(logs.String(), "Stopped serving DNS") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func get(t *testing.T, u string, want int) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}

// startEtcd runs an embedded etcd on loopback ports for the test.
func startEtcd(t *testing.T) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cu, _ := url.Parse("http://127.0.0.1:0")
	pu, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
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
		t.Fatal("etcd not ready")
	}
	return "http://" + e.Clients[0].Addr().String()
}

func poll(t *testing.T, within time.Duration, cond func() error) {
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
			t.Fatalf("not within %v: %v", within, err)
		}
		<-tick.C
	}
}

// FuzzParseNameServer checks the --nameserver reader: no value panics,
// and whatever it accepts reads back the same from the form --help shows
// defaults in.
func FuzzParseNameServer(f *testing.F) {
	f.Add("ns1.fedstate.local.=127.0.0.1,::1")
	f.Add("ns.example.")
	f.Add("ns.example.=")
	f.Add("a=b=c")
	f.Add("ns=fe80::1%eth0,::ffff:1.2.3.4")
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := parseNameServer(s)
		if err != nil {
			return
		}
		shown := formatNameServers([]dnsserver.NameServer{ns})
		again, err := parseNameServer(shown)
		if err != nil || again.Host != ns.Host || !slices.Equal(again.Addrs, ns.Addrs) {
			t.Fatalf("parseNameServer(%q) = %+v; shown as %q, read back as %+v, %v", s, ns, shown, again, err)
		}
	})
}
