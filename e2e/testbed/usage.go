package testbed

import (
	"bufio"
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ClusterHealth is the result of probing one cluster's API server.
type ClusterHealth struct {
	// Name of the cluster.
	Name string
	// Server is its API server URL.
	Server string
	// Ready is true when /readyz answered 200.
	Ready bool
}

// Health probes every cluster's /readyz once, with a one-second deadline
// each.
func (b *Bed) Health(ctx context.Context) []ClusterHealth {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	var out []ClusterHealth
	for _, c := range b.Clusters() {
		token, _ := os.ReadFile(filepath.Join(b.state.Dir, c.Name, "token"))
		out = append(out, ClusterHealth{Name: c.Name, Server: c.Server, Ready: httpOK(ctx, client, c.Server+"/readyz", string(token))})
	}
	return out
}

// ProcessUsage is the memory one running process uses.
type ProcessUsage struct {
	// Name and PID of the process.
	Name string
	PID  int
	// RSSBytes is its resident set; PSSBytes splits shared pages fairly
	// among the processes sharing them.
	RSSBytes, PSSBytes int64
}

// Usage reports the memory of every running process of the bed.
func (b *Bed) Usage() []ProcessUsage {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []ProcessUsage
	for _, p := range b.processes(nil) {
		if !b.sup.running(p) {
			continue
		}
		u := ProcessUsage{Name: p.Name, PID: p.PID}
		u.RSSBytes = procKB("/proc/"+itoa(p.PID)+"/status", "VmRSS:") * 1024
		u.PSSBytes = procKB("/proc/"+itoa(p.PID)+"/smaps_rollup", "Pss:") * 1024
		out = append(out, u)
	}
	return out
}

// procKB reads the "<key> <n> kB" line of a /proc file; zero when absent.
func procKB(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), key); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}
