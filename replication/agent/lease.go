package agent

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/fedstate/fedstate/replication/coord"
)

// guardPoll is how often a held primary lease's bound is checked and the
// watchdog's deadline moved.
const guardPoll = 50 * time.Millisecond

// holdLease takes the primary lease for epoch (or takes over the one the
// previous run of this agent held) and starts guarding it.
func (w *worker) holdLease(ctx context.Context, epoch int64) error {
	w.mu.Lock()
	held := w.lease != nil
	w.mu.Unlock()
	if held {
		return nil
	}
	sess := w.a.sess()
	if sess == nil {
		return errNoSession
	}
	l, err := sess.HoldPrimary(ctx, w.key.svc, w.key.n, epoch)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.lease = l
	w.mu.Unlock()
	w.a.m.primaries.Inc()
	if err := WriteDeadline(w.deadlinePath(), l.WritableUntil().Add(w.a.fenceGrace(l.TTL()))); err != nil {
		w.fail("write the fencing deadline", err)
	}
	w.log.Info("Primary lease held", "epoch", epoch, "lease", l.Lease())
	go w.guard(l, w.drv, w.deadlinePath())
	return nil
}

// releaseLease gives the primary lease of epoch up once the server
// stopped accepting writes (a demotion). A lease the previous run held is
// taken over first, so that it is released rather than left to expire.
func (w *worker) releaseLease(ctx context.Context, epoch int64) error {
	w.mu.Lock()
	l := w.lease
	w.lease = nil
	w.mu.Unlock()
	if l == nil {
		sess := w.a.sess()
		if sess == nil {
			return errNoSession
		}
		var err error
		l, err = sess.HoldPrimary(ctx, w.key.svc, w.key.n, epoch)
		if errors.Is(err, coord.ErrFenced) {
			return nil // the epoch moved on: the lease is gone already
		}
		if err != nil {
			return err
		}
	} else {
		w.a.m.primaries.Dec()
	}
	_ = os.Remove(w.deadlinePath())
	return l.Release(ctx)
}

// leaseValid reports whether the worker holds the primary lease and may
// keep the server writable now: the last renewal is less than half the
// TTL old.
func (w *worker) leaseValid() bool {
	w.mu.Lock()
	l := w.lease
	w.mu.Unlock()
	return l != nil && time.Now().Before(l.WritableUntil())
}

// guard keeps the primary writable only while l allows: it fences the
// server as soon as the lease ends or has not been renewed for half its
// TTL, and moves the watchdog's deadline at every renewal. A lease whose
// renewals resume in time stays held; the worker then unfences.
func (w *worker) guard(l *coord.PrimaryLease, drv Driver, path string) {
	tick := time.NewTicker(guardPoll)
	defer tick.Stop()
	written := l.WritableUntil()
	fenced := false
	for {
		select {
		case <-l.Done():
			w.leaseEnded(l, drv, path)
			return
		case <-tick.C:
		}
		until := l.WritableUntil()
		if !time.Now().Before(until) {
			if !fenced {
				w.selfFence(drv, path, w.a.fenceGrace(l.TTL()), "not_renewed", "the primary lease was not renewed for half its TTL")
				fenced = true
				w.poke()
			}
			continue
		}
		fenced = false
		if until.After(written) {
			if err := WriteDeadline(path, until.Add(w.a.fenceGrace(l.TTL()))); err == nil {
				written = until
			}
		}
	}
}

// leaseEnded fences the server once l is over, unless it was released on
// purpose or abandoned for a restart.
func (w *worker) leaseEnded(l *coord.PrimaryLease, drv Driver, path string) {
	w.mu.Lock()
	mine := w.lease == l
	if mine {
		w.lease = nil
	}
	w.mu.Unlock()
	if !mine {
		return // released on purpose, or the server was stopped
	}
	w.a.m.primaries.Dec()
	if l.Abandoned() {
		return // the agent is stopping: the next run or the watchdog takes over
	}
	w.selfFence(drv, path, w.a.fenceGrace(l.TTL()), "lease_lost", l.Err().Error())
	w.poke()
}

// selfFence fences the server at once, or stops it hard when the fence
// does not finish within the fence grace; the watchdog's deadline is withdrawn
// once the server is safe.
func (w *worker) selfFence(drv Driver, path string, grace time.Duration, reason, why string) {
	w.fenceMu.Lock()
	defer w.fenceMu.Unlock()
	w.a.m.selfFences.WithLabelValues(reason).Inc()
	w.log.Warn("Fencing the primary", "reason", why)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	err := drv.Fence(ctx)
	cancel()
	if err != nil {
		w.log.Warn("Fence failed; stopping the server hard", "err", err)
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = drv.Stop(sctx, true)
		cancel()
		if err != nil {
			w.log.Error("Cannot stop the server; the watchdog stops it at its deadline", "err", err)
			return
		}
	}
	_ = os.Remove(path)
}

// watchdog starts the fence watchdog of a writable primary.
func (w *worker) watchdog() {
	if err := startWatchdog(w.a.cfg.Watchdog, w.deadlinePath(), w.drv.DataDir()); err != nil {
		w.fail("start the fence watchdog", err)
	}
}

// fenceGrace is how long a fence may take once a primary must stop
// writing (at half the lease TTL): FenceTimeout, but at most a quarter of
// the TTL, so that the hard stop, by the agent or by the watchdog, lands
// before the lease can expire on the server.
func (a *Agent) fenceGrace(ttl time.Duration) time.Duration {
	return min(a.cfg.FenceTimeout, ttl/4)
}
