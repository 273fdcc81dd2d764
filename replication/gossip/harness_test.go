package gossip

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
)

var printLog = flag.Bool("gossip.log", false, "print memberlist's log lines to stderr")

// testNode is one running pool of a test with its own metrics registry
// and a recorder of every transition it saw since it started.
type testNode struct {
	*Pool
	cfg Config
	reg *prometheus.Registry
	rec *recorder
}

// clusters maps the test agents to their regions.
var regions = map[string]string{"eu-1": "eu-west", "us-1": "us-east", "ap-1": "ap-south"}

// testConfig returns the default config of a node on ip with a free port
// and the test keyring.
func testConfig(name string, role Role, ip string) Config {
	cfg := DefaultConfig(name)
	cfg.Role, cfg.BindAddr, cfg.BindPort = role, ip, 0
	if role == RoleAgent {
		cfg.Cluster, cfg.Region = name, regions[name]
		cfg.Payload = []byte("session-" + name)
	} else {
		cfg.Region = "eu-west"
	}
	cfg.Keyring = [][]byte{testKey(1)}
	// Heal partitions within the tests' time.
	cfg.ReconnectInterval = time.Second
	if *printLog {
		cfg.Logger = funcr.New(func(prefix, args string) {
			fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), name, prefix, args)
		}, funcr.Options{Verbosity: 2})
	} else {
		cfg.Logger = logr.Discard()
	}
	return cfg
}

// start starts a pool on cfg; the test's cleanup shuts it down.
func start(t *testing.T, cfg Config) *testNode {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg.Name, err)
	}
	n := &testNode{Pool: p, cfg: cfg, reg: reg, rec: record(p)}
	t.Cleanup(func() {
		if err := p.Shutdown(); err != nil {
			t.Errorf("Shutdown(%s): %v", cfg.Name, err)
		}
	})
	return n
}

// startFederation starts a hub and the agents eu-1, us-1 and ap-1 on
// 127.0.<subnet>.1-4, joins the agents to the hub, and waits until every
// node sees every other alive.
func startFederation(t *testing.T, subnet int, change func(*Config)) []*testNode {
	t.Helper()
	var nodes []*testNode
	for i, name := range []string{"hub", "eu-1", "us-1", "ap-1"} {
		role := RoleAgent
		if name == "hub" {
			role = RoleHub
		}
		cfg := testConfig(name, role, fmt.Sprintf("127.0.%d.%d", subnet, i+1))
		if change != nil {
			change(&cfg)
		}
		nodes = append(nodes, start(t, cfg))
	}
	for _, n := range nodes[1:] {
		join(t, n, nodes[0])
	}
	waitAllAlive(t, nodes, 10*time.Second)
	return nodes
}

// join joins n to the pool through peer.
func join(t *testing.T, n, peer *testNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := n.Join(ctx, peer.Addr()); err != nil {
		t.Fatalf("%s joins %s: %v", n.Name(), peer.Name(), err)
	}
}

// waitAllAlive waits until every node sees exactly the given nodes, all
// alive.
func waitAllAlive(t *testing.T, nodes []*testNode, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "every node sees every node alive", func() bool {
		for _, n := range nodes {
			ms := n.Members()
			if len(ms) != len(nodes) {
				return false
			}
			for _, m := range ms {
				if m.State != StateAlive {
					return false
				}
			}
		}
		return true
	})
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: not yet %s", timeout, what)
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatalf("test ended waiting for %s", what)
		}
	}
}

// stateOf returns name's state in n's view (StateUnknown if absent).
func stateOf(n *testNode, name string) State {
	for _, m := range n.Members() {
		if m.Name == name {
			return m.State
		}
	}
	return StateUnknown
}

// member returns name's Member in n's view.
func member(t *testing.T, n *testNode, name string) Member {
	t.Helper()
	for _, m := range n.Members() {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("%s does not list %s", n.Name(), name)
	return Member{}
}

// recorder keeps every transition of a subscription.
type recorder struct {
	mu   sync.Mutex
	trs  []Transition
	sub  *Subscription
	done chan struct{}
}

func record(p *Pool) *recorder {
	r := &recorder{sub: p.Subscribe(4096), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for tr := range r.sub.C() {
			r.mu.Lock()
			r.trs = append(r.trs, tr)
			r.mu.Unlock()
		}
	}()
	return r
}

// about returns the transitions about member name, in order.
func (r *recorder) about(name string) []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Transition
	for _, tr := range r.trs {
		if tr.Member.Name == name {
			out = append(out, tr)
		}
	}
	return out
}

// first returns the first transition about name into state to after t0.
func (r *recorder) first(name string, to State, t0 time.Time) (Transition, bool) {
	for _, tr := range r.about(name) {
		if tr.To == to && tr.From != to && !tr.At.Before(t0) {
			return tr, true
		}
	}
	return Transition{}, false
}

// count returns how many transitions of kind k about name came after t0.
func (r *recorder) count(name string, k Kind, t0 time.Time) int {
	n := 0
	for _, tr := range r.about(name) {
		if tr.Kind() == k && !tr.At.Before(t0) {
			n++
		}
	}
	return n
}

// portOf returns the port of a host:port address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
