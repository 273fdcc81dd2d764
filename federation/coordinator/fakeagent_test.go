package coordinator_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/faultnet"
	"github.com/fedstate/fedstate/replication/coord"
)

// fleet simulates the service's database replicas and the agents of the
// member clusters, through coord as real agents use it: each agent holds
// a session, reads its replicas' command records, takes and releases the
// primary lease and reports positions. A primary writes writeRate bytes
// per tick while it may (its lease held, before WritableUntil); a standby
// replays its source's log, at most replayRate bytes per tick, up to lag
// bytes behind while the source writes and all of it once the source
// stops; nothing flows out of a partitioned cluster. The fleet records every moment two replicas could write.
type fleet struct {
	t      *testing.T
	env    *env
	svc    coord.Service
	mu     sync.Mutex
	reps   []*replica
	down   map[string]bool
	agents map[string]*agent
	// violations are moments with two writable primaries.
	violations []string
	// stop ends every agent's loop and waits for it.
	stop func()
}

// replica is one simulated database replica.
type replica struct {
	ordinal int
	cluster string
	lag     uint64
	cmd     *coord.Command
	role    coord.Role // empty: holds no data yet
	epoch   int64
	pos     uint64
	source  int
	writing bool
	lease   *coord.PrimaryLease
}

// agent is one member cluster's simulated agent, connected to etcd
// through a proxy the test can partition.
type agent struct {
	cluster string
	proxy   *faultnet.Proxy
	store   *coord.Store
	session *coord.Agent
}

// writeRate is what a primary writes per tick of 50 ms; a standby replays
// up to replayRate per tick.
const (
	writeRate  = 4 << 10
	replayRate = 16 << 10
)

// startFleet starts one agent per cluster; replica i runs in clusters[i]
// with lags[i].
func startFleet(t *testing.T, e *env, lags []uint64) *fleet {
	t.Helper()
	f := &fleet{t: t, env: e, svc: coord.Service{Namespace: e.ns, Name: "db"}, down: map[string]bool{}, agents: map[string]*agent{}}
	for i, c := range clusters {
		f.reps = append(f.reps, &replica{ordinal: i, cluster: c.name, lag: lags[i], source: -1})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var once sync.Once
	f.stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(f.stop)
	for _, c := range clusters {
		p, err := faultnet.Listen(strings.TrimPrefix(etcdURL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		st := e.connect(t, p.URL())
		s, err := st.StartAgent(t.Context(), c.name, c.name)
		if err != nil {
			t.Fatal(err)
		}
		a := &agent{cluster: c.name, proxy: p, store: st, session: s}
		f.agents[c.name] = a
		wg.Add(1)
		go func() { defer wg.Done(); f.run(ctx, a) }()
	}
	return f
}

// partition cuts a cluster's agent off etcd and its replicas off the
// others, for good: it stops renewing its leases.
func (f *fleet) partition(cluster string) {
	f.mu.Lock()
	f.down[cluster] = true
	f.mu.Unlock()
	f.agents[cluster].proxy.Partition()
}

// run is one agent: it follows its commands and ticks its replicas.
func (f *fleet) run(ctx context.Context, a *agent) {
	for ctx.Err() == nil {
		snap, err := a.store.Snapshot(ctx, f.svc)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for n, c := range snap.Commands {
			f.command(a, n, c)
		}
		f.follow(ctx, a, a.store.WatchService(ctx, f.svc, snap.Revision+1))
	}
}

// follow handles commands from the watch and ticks until the watch ends.
func (f *fleet) follow(ctx context.Context, a *agent, watch <-chan coord.WatchResponse) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case wr, ok := <-watch:
			if !ok || wr.Err != nil {
				return
			}
			for _, e := range wr.Events {
				if e.Key.Kind != coord.KindCommand || e.Deleted {
					continue
				}
				if c, err := coord.DecodeCommand(e.Value); err == nil {
					f.command(a, e.Key.Replica, c)
				}
			}
		case <-tick.C:
			f.tick(ctx, a, n%2 == 0)
		}
	}
}

// command records a replica's latest command, if it is this agent's.
func (f *fleet) command(a *agent, n int, c coord.Command) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.Cluster == a.cluster && n < len(f.reps) {
		f.reps[n].cmd = &c
	}
}

// tick brings the agent's replicas to their commands, lets them write and
// replay, and reports them (every other tick).
func (f *fleet) tick(ctx context.Context, a *agent, report bool) {
	for _, r := range f.reps {
		if r.cluster == a.cluster {
			f.obey(ctx, a, r)
		}
	}
	f.mu.Lock()
	var reports []func()
	for _, r := range f.reps {
		if r.cluster != a.cluster {
			continue
		}
		f.advance(r)
		if r.role != "" && report {
			n, rep := r.ordinal, coord.Report{Role: r.role, Position: r.pos, Epoch: r.epoch, Time: time.Now()}
			reports = append(reports, func() { _ = a.session.Report(ctx, f.svc, n, rep) })
		}
	}
	f.check()
	f.mu.Unlock()
	for _, send := range reports {
		send()
	}
}

// obey carries out a replica's latest command, as the command records'
// documentation asks of an agent.
func (f *fleet) obey(ctx context.Context, a *agent, r *replica) {
	f.mu.Lock()
	c, lease := r.cmd, r.lease
	f.mu.Unlock()
	if c == nil {
		return
	}
	switch c.Kind {
	case coord.CommandInit, coord.CommandPromote:
		if lease != nil && lease.Err() == nil {
			return
		}
		l, err := a.session.HoldPrimary(ctx, f.svc, r.ordinal, c.Epoch)
		if err != nil {
			return // stale, or the old lease is still held: try again
		}
		f.mu.Lock()
		r.lease, r.role, r.epoch, r.source, r.writing = l, coord.RolePrimary, c.Epoch, -1, true
		f.mu.Unlock()
	case coord.CommandDemote:
		f.mu.Lock()
		demote := r.role == coord.RolePrimary && r.epoch == c.Epoch
		if demote {
			r.writing, r.role = false, coord.RoleFenced
		}
		f.mu.Unlock()
		if demote && lease != nil {
			_ = lease.Release(ctx)
		}
	case coord.CommandFence:
		f.mu.Lock()
		r.writing = false
		if r.role == coord.RolePrimary {
			r.role = coord.RoleFenced
		}
		f.mu.Unlock()
	default: // Seed, Follow, Rewind, WaitReplay
		if lease != nil {
			_ = lease.Release(ctx)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if c.Kind == coord.CommandRewind && r.source != c.Primary {
			r.pos = min(r.pos, f.reps[c.Primary].pos)
		}
		r.lease, r.writing, r.role, r.epoch, r.source = nil, false, coord.RoleAsyncReplica, c.Epoch, c.Primary
	}
}

// advance writes on a primary that may write, replays on a standby whose
// source is reachable; f.mu is held.
func (f *fleet) advance(r *replica) {
	if r.writing {
		if !writable(r) {
			r.writing, r.role = false, coord.RoleFenced // fenced itself
			return
		}
		r.pos += writeRate
		return
	}
	if r.source < 0 || f.down[f.reps[r.source].cluster] || f.down[r.cluster] {
		return
	}
	src := f.reps[r.source]
	target := src.pos
	if src.writing {
		target -= min(r.lag, target)
	}
	if target > r.pos {
		r.pos += min(target-r.pos, replayRate)
	}
}

// writable says whether a replica may accept writes now.
func writable(r *replica) bool {
	return r.writing && r.lease != nil && r.lease.Err() == nil && time.Now().Before(r.lease.WritableUntil())
}

// check records a moment with more than one writable replica; f.mu is
// held.
func (f *fleet) check() {
	var w []string
	for _, r := range f.reps {
		if writable(r) {
			w = append(w, fmt.Sprintf("db-%d in epoch %d", r.ordinal, r.epoch))
		}
	}
	if len(w) > 1 {
		f.violations = append(f.violations, time.Now().Format(time.StampMilli)+": "+strings.Join(w, ", "))
	}
}

// primaries lists the replicas that hold the primary role now.
func (f *fleet) primaries() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, r := range f.reps {
		if r.role == coord.RolePrimary && writable(r) {
			out = append(out, r.ordinal)
		}
	}
	return out
}

// position returns a replica's position.
func (f *fleet) position(n int) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reps[n].pos
}

// noSplitBrain fails the test if two replicas could ever write at once.
func (f *fleet) noSplitBrain() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.violations) > 0 {
		f.t.Errorf("two writable primaries at once: %v", f.violations)
	}
}
