package dnsserver

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkDNSPerf is make bench-dns: the side-by-side run. It
// starts the built fedstate binary ($FEDSTATE_BIN) pinned to CPU 0 against
// the package's etcd, and CoreDNS ($COREDNS_BIN, file plugin, same records)
// likewise, then drives each with dnsperf from this process's CPU (make
// pins it to CPU 1). It reports queries/s at saturation, p50/p99 latency at
// a fixed 2,000 q/s, CPU µs per query and RSS, then the time from an etcd
// write to three servers answering a new primary while one serves 20,000 q/s.
func BenchmarkDNSPerf(b *testing.B) {
	fedstate, coredns := os.Getenv("FEDSTATE_BIN"), os.Getenv("COREDNS_BIN")
	if fedstate == "" {
		b.Fatal("set FEDSTATE_BIN to the built fedstate binary (make bench-dns does)")
	}
	dnsperf := tool(b, "dnsperf", "dnsperf")
	dir := b.TempDir()
	const prefix = "/bench-perf/"
	wcfg := DefaultWriterConfig()
	wcfg.Prefix = prefix
	w, err := NewWriter(wcfg)
	if err != nil {
		b.Fatal(err)
	}
	cli := etcd.client(b)
	for _, ops := range benchOps(b, w) {
		if err := w.Commit(b.Context(), cli, ops); err != nil {
			b.Fatal(err)
		}
	}
	queries := filepath.Join(dir, "queries")
	var qf strings.Builder
	for i := range 10000 {
		name, qtype := benchQuery(i)
		fmt.Fprintf(&qf, "%s %s\n", name, dns.TypeToString[qtype])
	}
	if err := os.WriteFile(queries, []byte(qf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	var servers []string
	for range 3 {
		addr := freeAddr()
		// dnsperf sends every query from one address: no rate limit, or it
		// would measure the limiter. The etcd of the test is plaintext on
		// loopback.
		startProcess(b, "taskset", "-c", "0", fedstate, "dns", "--etcd-endpoints", etcd.clientURL, "--prefix", prefix,
			"--listen", addr, "--metrics-listen", "", "--region", "eu", "--rate-limit", "0", "--insecure-local")
		servers = append(servers, addr)
	}
	for _, addr := range servers {
		waitAnswer(b, addr, "_pg._tcp."+benchService(999)+"."+benchNS+".svc."+z, dns.TypeSRV)
	}
	ours := measure(b, "fedstate", servers[0], pidOn(b, servers[0]), dnsperf, queries)
	b.ReportMetric(ours.qps, "fedstate-q/s")
	if coredns != "" {
		addr := freeAddr()
		zone := filepath.Join(dir, "db.fedstate.local")
		var zf strings.Builder
		for _, rr := range benchSnapshot(b).Records() {
			fmt.Fprintln(&zf, rr.String())
		}
		host, port, _ := net.SplitHostPort(addr)
		corefile := filepath.Join(dir, "Corefile")
		conf := fmt.Sprintf("%s:%s {\n bind %s\n file %s %s\n}\n", z, port, host, zone, z)
		if err := os.WriteFile(zone, []byte(zf.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(corefile, []byte(conf), 0o644); err != nil {
			b.Fatal(err)
		}
		startProcess(b, "taskset", "-c", "0", coredns, "-conf", corefile)
		waitAnswer(b, addr, "_pg._tcp."+benchService(999)+"."+benchNS+".svc."+z, dns.TypeSRV)
		theirs := measure(b, "coredns-file", addr, pidOn(b, addr), dnsperf, queries)
		b.ReportMetric(theirs.qps, "coredns-q/s")
		b.Logf("fedstate / CoreDNS file queries/s: %.2fx", ours.qps/theirs.qps)
	} else {
		b.Log("COREDNS_BIN not set: CoreDNS not measured")
	}
	propagation(b, w, servers, pidOn(b, servers[0]), dnsperf, queries)
}

type perf struct{ qps, p50, p99, cpuPerQuery, rssMiB float64 }

// saturation is how long dnsperf drives a server as fast as it answers.
const saturation = 10 * time.Second

// measure drives one server: saturation, fixed-rate latency, CPU, RSS.
// The server's CPU use during the saturation run tells whether the server
// (near 100 %) or the load generator limited the rate.
func measure(b *testing.B, name, addr string, pid int, dnsperf, queries string) perf {
	host, port, _ := net.SplitHostPort(addr)
	cpu0 := cpuSeconds(b, pid)
	out := runOut(b, dnsperf, "-s", host, "-p", port, "-d", queries, "-l", strconv.Itoa(int(saturation.Seconds())), "-c", "4", "-q", "200")
	cpu := cpuSeconds(b, pid) - cpu0
	checkMix(b, name, out)
	var p perf
	p.qps = parseFloat(b, out, `Queries per second:\s+([\d.]+)`)
	completed := parseFloat(b, out, `Queries completed:\s+(\d+)`)
	p.cpuPerQuery = cpu * 1e6 / completed
	lat := fixedRate(b, addr, 2000, 5*time.Second)
	p.p50, p.p99 = lat[len(lat)/2].Seconds()*1e3, lat[len(lat)*99/100].Seconds()*1e3
	p.rssMiB = float64(procStatus(b, pid, "VmRSS")) / 1024
	b.Logf("%-13s %8.0f q/s saturated (server CPU %.0f %%) | at 2000 q/s p50 %.3f ms p99 %.3f ms | %.1f CPU µs/query | RSS %.1f MiB | lost %s",
		name, p.qps, 100*cpu/saturation.Seconds(), p.p50, p.p99, p.cpuPerQuery, p.rssMiB,
		regexp.MustCompile(`Queries lost:\s+(\S+ \S+)`).FindStringSubmatch(out)[1])
	return p
}

// checkMix fails the benchmark unless dnsperf saw the answers the query
// mix calls for, NOERROR and about 10 % NXDOMAIN: a server that answers
// fast but wrong (REFUSED, SERVFAIL) must not pass for a fast one.
func checkMix(b *testing.B, name, out string) {
	line := regexp.MustCompile(`Response codes:\s+(.*)`).FindStringSubmatch(out)
	if line == nil {
		b.Fatalf("%s: no response codes in dnsperf output:\n%s", name, out)
	}
	share := map[string]float64{}
	for _, m := range regexp.MustCompile(`([A-Z]+) \d+ \(([\d.]+)%\)`).FindAllStringSubmatch(line[1], -1) {
		share[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	if nx := share["NXDOMAIN"]; len(share) != 2 || nx < 9 || nx > 11 || share["NOERROR"] < 89 {
		b.Fatalf("%s answered %s; want NOERROR and 10 %% NXDOMAIN", name, line[1])
	}
}

// fixedRate sends the query mix at rate q/s for d over UDP and returns the
// sorted round-trip times of the answered queries.
func fixedRate(b *testing.B, addr string, rate int, d time.Duration) []time.Duration {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	n := int(d.Seconds() * float64(rate))
	sent := make([]atomic.Int64, n) // unix nanoseconds; 0 once answered
	rtts := make([]time.Duration, 0, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for len(rtts) < n {
			if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
				return
			}
			k, err := conn.Read(buf)
			if err != nil || k < 2 {
				return
			}
			if id := int(buf[0])<<8 | int(buf[1]); id < n {
				if at := sent[id].Swap(0); at != 0 {
					rtts = append(rtts, time.Duration(time.Now().UnixNano()-at))
				}
			}
		}
	}()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := range n {
		<-tick.C
		name, qtype := benchQuery(i)
		m := query{name: name, qtype: qtype}.msg()
		m.Id = uint16(i)
		wire, err := m.Pack()
		if err != nil {
			b.Fatal(err)
		}
		sent[i].Store(time.Now().UnixNano())
		if _, err := conn.Write(wire); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	slices.Sort(rtts)
	if len(rtts) < n*99/100 {
		b.Fatalf("only %d of %d answered", len(rtts), n)
	}
	return rtts
}

// propagation flips primaries while servers[0] serves 20,000 q/s and
// reports the time until all three servers answer the new primary. The
// flips are spread over the load run (one per flipEvery, after a second of
// load), and dnsperf's own report says which rate was served meanwhile.
func propagation(b *testing.B, w *Writer, servers []string, pid int, dnsperf, queries string) {
	const flips, flipEvery, rate = 200, 50 * time.Millisecond, 20000
	host, port, _ := net.SplitHostPort(servers[0])
	warmup := time.Second
	run := warmup + flips*flipEvery + time.Second
	load := exec.CommandContext(b.Context(), dnsperf, "-s", host, "-p", port, "-d", queries,
		"-l", strconv.Itoa(int(run.Seconds())), "-Q", strconv.Itoa(rate), "-c", "4")
	var out strings.Builder
	load.Stdout, load.Stderr = &out, &out
	if err := load.Start(); err != nil {
		b.Fatal(err)
	}
	loadDone := make(chan error, 1)
	go func() { loadDone <- load.Wait() }()
	cli := etcd.client(b)
	var lags []time.Duration
	tick := time.NewTicker(flipEvery)
	defer tick.Stop()
	for range warmup / flipEvery {
		<-tick.C
	}
	for i := range flips {
		<-tick.C
		svc := benchService(i * 17 % benchServices)
		prev := Primary{Ordinal: 0, Epoch: 1}
		next := Primary{Ordinal: 1 + i%4, Epoch: 2}
		ops, err := w.SetPrimary(benchNS, svc, &prev, next)
		if err != nil {
			b.Fatal(err)
		}
		want := benchAddr(i*17%benchServices, next.Ordinal).String()
		start := time.Now()
		if err := w.Commit(b.Context(), cli, ops); err != nil {
			b.Fatal(err)
		}
		for _, addr := range servers {
			s := &testServer{addr: addr}
			for s.wantA("primary."+svc+"."+benchNS+".svc."+z, want, dns.RcodeSuccess) != nil {
				if time.Since(start) > 5*time.Second {
					b.Fatalf("%s never answered the new primary of %s", addr, svc)
				}
			}
		}
		lags = append(lags, time.Since(start))
	}
	if err := <-loadDone; err != nil {
		b.Fatalf("dnsperf: %v\n%s", err, out.String())
	}
	checkMix(b, "fedstate under flips", out.String())
	served := parseFloat(b, out.String(), `Queries per second:\s+([\d.]+)`)
	slices.SortFunc(lags, func(a, b time.Duration) int { return cmp.Compare(a, b) })
	b.Logf("etcd write -> 3 servers answer the new primary (%d flips while one serves %.0f q/s, lost %s): p50 %v p99 %v max %v | RSS after the flips (IXFR journal full) %.1f MiB",
		flips, served, regexp.MustCompile(`Queries lost:\s+(\S+ \S+)`).FindStringSubmatch(out.String())[1],
		lags[len(lags)/2].Round(10*time.Microsecond), lags[len(lags)*99/100].Round(10*time.Microsecond), lags[len(lags)-1].Round(10*time.Microsecond),
		float64(procStatus(b, pid, "VmRSS"))/1024)
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1e3, "flip-p99-ms")
	b.ReportMetric(served, "flip-load-q/s")
}

func startProcess(b *testing.B, name string, args ...string) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); _ = cmd.Wait() })
}

func waitAnswer(b *testing.B, addr, name string, qtype uint16) {
	poll(b, 20*time.Second, "answer from "+addr, func() error {
		_, resp, err := exchange(addr, false, query{name: name, qtype: qtype, edns: 1232}.msg())
		if err == nil && len(resp.Answer) == 0 {
			return fmt.Errorf("no answer: %v", resp)
		}
		return err
	})
}

// pidOn finds the process listening on the UDP address via /proc/net/udp.
func pidOn(b *testing.B, addr string) int {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	raw, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		b.Fatal(err)
	}
	var inode string
	for _, line := range strings.Split(string(raw), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", p)) {
			inode = f[9]
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		if target, err := os.Readlink(fd); err == nil && target == "socket:["+inode+"]" {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid
		}
	}
	b.Fatalf("no process on %s", addr)
	return 0
}

func cpuSeconds(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw)[strings.LastIndexByte(string(raw), ')')+2:])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

func procStatus(b *testing.B, pid int, key string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

func runOut(b *testing.B, name string, args ...string) string {
	out, err := exec.CommandContext(b.Context(), name, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

func parseFloat(b *testing.B, out, re string) float64 {
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("no %s in\n%s", re, out)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}
