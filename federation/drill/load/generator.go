package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrRunning is returned by a second call of Run.
var ErrRunning = errors.New("load: Run was already called")

// Generator writes numbered rows to a service's primary at a steady rate,
// and optionally reads from its replicas, and records every operation.
// Make one with New and start it with Run; Snapshot, Ops, Acknowledged
// and Verify may be called at any time, from any goroutine.
type Generator struct {
	cfg   Config
	clock Clock

	mu      sync.Mutex
	ran     bool
	started time.Time
	stopped time.Time
	ops     []Op
}

// New returns a Generator for cfg, or the errors of cfg.Validate.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("load configuration: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.RunID == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("make a run id: %w", err)
		}
		cfg.RunID = cfg.Clock.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
	}
	return &Generator{cfg: cfg, clock: cfg.Clock}, nil
}

// Config returns the configuration, with the RunID New chose.
func (g *Generator) Config() Config { return g.cfg }

// Run writes (and reads) until ctx ends, then returns nil. An operation
// that ctx cut short is not recorded unless it had succeeded. Run may be
// called once; a second call returns ErrRunning.
func (g *Generator) Run(ctx context.Context) error {
	g.mu.Lock()
	if g.ran {
		g.mu.Unlock()
		return ErrRunning
	}
	g.ran, g.started = true, g.clock.Now()
	start := g.started
	g.mu.Unlock()

	var wg sync.WaitGroup
	w := &writer{g: g, res: newResolver(g.cfg.DNSServer, g.cfg.PrimaryName(), g.cfg.ResolveInterval, g.clock)}
	wg.Go(func() { g.pace(ctx, start, g.cfg.Rate, w.write); w.close() })
	if g.cfg.ReadRate > 0 {
		r := &reader{g: g, res: newResolver(g.cfg.DNSServer, g.cfg.ServiceName(), g.cfg.ResolveInterval, g.clock)}
		wg.Go(func() { g.pace(ctx, start, g.cfg.ReadRate, r.read); r.close() })
	}
	wg.Wait()

	g.mu.Lock()
	g.stopped = g.clock.Now()
	g.mu.Unlock()
	return nil
}

// pace calls do at rate a second from start until ctx ends, and records
// what it returns. A call that overruns its slot skips the slots it
// missed rather than catching up in a burst.
func (g *Generator) pace(ctx context.Context, start time.Time, rate float64, do func(context.Context) Op) {
	every := interval(rate)
	next := start
	for {
		if d := next.Sub(g.clock.Now()); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-g.clock.After(d):
			}
		}
		if ctx.Err() != nil {
			return
		}
		op := do(ctx)
		if op.Outcome == OK || ctx.Err() == nil {
			g.record(op)
		}
		next = nextSlot(start, g.clock.Now(), every)
	}
}

// nextSlot is the first slot start+k*every after now.
func nextSlot(start, now time.Time, every time.Duration) time.Time {
	if now.Before(start) {
		return start
	}
	k := now.Sub(start)/every + 1
	return start.Add(k * every)
}

// record appends op to the history.
func (g *Generator) record(op Op) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ops = append(g.ops, op)
}

// Ops returns a copy of every operation recorded so far, in the order each
// kind was issued.
func (g *Generator) Ops() []Op {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.ops)
}

// Snapshot summarises the operations recorded so far: from the start of
// Run to now, or to its end once it returned. Before Run it is empty. It
// costs a pass over the history and a sort of the latencies.
func (g *Generator) Snapshot() Snapshot {
	g.mu.Lock()
	ops, start, end := slices.Clone(g.ops), g.started, g.stopped
	g.mu.Unlock()
	if start.IsZero() {
		return Snapshot{}
	}
	if end.IsZero() {
		end = g.clock.Now()
	}
	return Analyze(ops, start, end, g.cfg.gapThreshold())
}

// Acknowledged returns the ids of the acknowledged writes, ascending.
func (g *Generator) Acknowledged() []int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var ids []int64
	for _, op := range g.ops {
		if op.Kind == Write && op.Outcome == OK {
			ids = append(ids, op.ID)
		}
	}
	slices.Sort(ids)
	return ids
}
