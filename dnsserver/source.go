package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Source keeps the current Snapshot of the zone, fed by one etcd range read
// and a watch. Snapshot and Stale are safe for concurrent use and never
// block; Run does the I/O.
type Source struct {
	cfg       Config
	cli       *clientv3.Client
	metrics   *Metrics
	now       func() time.Time
	cur       atomic.Pointer[Snapshot]
	lastHeard atomic.Int64 // unix nanoseconds of the last sign of life of the watch
	stale     atomic.Bool
	changed   chan struct{} // one pending signal: the records changed
	journal   journal       // versions of the records for IXFR; written by Run only
}

// NewSource returns a Source reading cfg.Prefix from cli. It validates cfg.
func NewSource(cfg Config, cli *clientv3.Client, m *Metrics) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dns config: %w", err)
	}
	if cli == nil || m == nil {
		return nil, errors.New("dnsserver: NewSource needs an etcd client and metrics")
	}
	return &Source{cfg: cfg, cli: cli, metrics: m, now: time.Now, changed: make(chan struct{}, 1),
		journal: journal{size: cfg.IXFRJournal}}, nil
}

// Snapshot returns the snapshot being served, nil before the first load.
func (s *Source) Snapshot() *Snapshot { return s.cur.Load() }

// At returns the snapshot whose records are those of etcd revision rev, if
// it is one of the last Config.IXFRJournal changes (since the last full
// load); it implements Journal.
func (s *Source) At(rev int64) *Snapshot { return s.journal.at(rev) }

// Stale reports whether the watch has been lost for longer than
// Config.StaleAfter (or no snapshot was ever loaded).
func (s *Source) Stale() bool { return s.stale.Load() || s.cur.Load() == nil }

// Changed receives a value after the records changed (coalesced: several
// changes may give one value). Serial-only advances do not count.
func (s *Source) Changed() <-chan struct{} { return s.changed }

// Age is the time since the watch last proved alive.
func (s *Source) Age() time.Duration {
	last := s.lastHeard.Load()
	if last == 0 {
		return 0
	}
	return s.now().Sub(time.Unix(0, last))
}

// Run loads the records, follows the watch and reloads whenever the watch
// is lost, until ctx ends. It blocks; call it once.
func (s *Source) Run(ctx context.Context) error {
	log := logr.FromContextOrDiscard(ctx)
	done := make(chan struct{})
	defer func() { <-done }()
	go func() { defer close(done); s.watchdog(ctx) }()
	for {
		rev, err := s.load(ctx)
		for err == nil {
			err = s.follow(ctx, rev)
			if errors.Is(err, errWatchSilent) {
				// Cheaper than a reload: the snapshot is intact, only the
				// watch may have lost its way (see follow).
				log.V(1).Info("Restarting a silent etcd watch", "revision", s.cur.Load().Revision())
				rev, err = s.cur.Load().Revision(), nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		log.Info("Reloading DNS records from etcd", "reason", err.Error(), "revision", rev)
		t := time.NewTimer(s.cfg.RetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// load reads every record in one range read and swaps in a full snapshot.
func (s *Source) load(ctx context.Context) (int64, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.cfg.Prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("range read %s: %w", s.cfg.Prefix, err)
	}
	changes := make([]Change, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		changes[i] = Change{Key: string(kv.Key), Value: kv.Value}
	}
	s.install(ctx, NewSnapshot(s.cfg), resp.Header.Revision, changes, 0)
	return resp.Header.Revision, nil
}

// errWatchSilent ends follow when neither events nor progress
// notifications arrived for half of Config.StaleAfter.
var errWatchSilent = errors.New("dnsserver: etcd watch silent")

// follow applies the watch responses after the snapshot at revision rev
// until the watch fails or stays silent for half of Config.StaleAfter.
//
// The watch starts at rev itself, not rev+1, and skips the events the
// snapshot already holds: etcd answers a progress request only once its
// revision has reached the start revision of every watch on the stream,
// so a watch started in the future stays silent on an idle etcd. For the
// same reason a watch that the client resumed on its own (at the revision
// after the last one it saw) can fall silent; follow then returns
// errWatchSilent so that Run starts a new one before the bound is reached.
func (s *Source) follow(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := s.cli.Watch(wctx, s.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithProgressNotify())
	started := s.now()
	tick := time.NewTicker(s.cfg.ProgressInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if quiet := min(s.Age(), s.now().Sub(started)); quiet > s.cfg.StaleAfter/2 {
				return fmt.Errorf("%w for %v", errWatchSilent, quiet.Round(time.Millisecond))
			}
			// The request must carry the watch's metadata to reach its stream.
			rctx, rcancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.cfg.RequestTimeout)
			err := s.cli.RequestProgress(rctx)
			rcancel()
			if err != nil {
				logr.FromContextOrDiscard(ctx).V(1).Info("Progress request failed", "err", err.Error())
			}
		case resp, ok := <-wch:
			if !ok {
				return errors.New("watch channel closed")
			}
			if err := resp.Err(); err != nil {
				return fmt.Errorf("watch %s: %w", s.cfg.Prefix, err)
			}
			cur := s.cur.Load()
			changes := make([]Change, 0, len(resp.Events))
			first := int64(0) // revision of the earliest new event
			for _, ev := range resp.Events {
				if ev.Kv.ModRevision <= cur.Revision() {
					continue // already in the snapshot
				}
				if first == 0 {
					first = ev.Kv.ModRevision
				}
				changes = append(changes, Change{Key: string(ev.Kv.Key), Value: ev.Kv.Value, Deleted: ev.Type == clientv3.EventTypeDelete})
			}
			if len(changes) > 0 || resp.Header.Revision > cur.Revision() {
				s.install(ctx, cur, resp.Header.Revision, changes, first)
			} else {
				s.heard(ctx)
			}
		}
	}
}

// install applies changes to base at rev, swaps the result in and records
// the watch as alive. first is the revision of the earliest change, 0 for a
// full load: the IXFR journal then starts over.
func (s *Source) install(ctx context.Context, base *Snapshot, rev int64, changes []Change, first int64) {
	start := s.now()
	next, errs := base.Apply(rev, s.cfg.Prefix, changes)
	s.metrics.rebuildTime.Observe(s.now().Sub(start).Seconds())
	s.metrics.rebuilds.Inc()
	if len(errs) > 0 {
		s.metrics.recordErrors.Add(float64(len(errs)))
		logr.FromContextOrDiscard(ctx).Info("Left malformed DNS records out of the snapshot", "revision", rev, "errors", errors.Join(errs...).Error())
	}
	switch {
	case first == 0:
		s.journal.reset(next)
	case len(changes) > 0:
		s.journal.add(next, first)
	}
	s.cur.Store(next)
	s.metrics.serial.Set(float64(next.Serial()))
	s.heard(ctx)
	if len(changes) > 0 {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// heard records a sign of life of the watch and ends a stale period.
func (s *Source) heard(ctx context.Context) {
	s.lastHeard.Store(s.now().UnixNano())
	s.metrics.watchLag.Set(0)
	if s.stale.Swap(false) {
		s.metrics.stale.Set(0)
		logr.FromContextOrDiscard(ctx).Info("Recovered the etcd watch; answering primary names again", "serial", s.cur.Load().Serial())
	}
}

// watchdog marks the source stale once the watch has been silent for
// longer than StaleAfter.
func (s *Source) watchdog(ctx context.Context) {
	tick := time.NewTicker(max(s.cfg.StaleAfter/10, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.lastHeard.Load() == 0 {
			continue
		}
		age := s.Age()
		s.metrics.watchLag.Set(age.Seconds())
		if age > s.cfg.StaleAfter && !s.stale.Swap(true) {
			s.metrics.stale.Set(1)
			logr.FromContextOrDiscard(ctx).Info("Lost the etcd watch; answering SERVFAIL for primary names",
				"silentFor", age.String(), "bound", s.cfg.StaleAfter.String(), "serial", s.cur.Load().Serial())
		}
	}
}
