package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fedstate/fedstate/replication/coord"
)

// worker brings one replica's server to what its latest command says and
// reports on it, every ReportInterval and whenever nudged. Commands are
// level-triggered: after a restart, a partition or a failed step the worker
// simply carries the current command out again; every Driver step is
// idempotent.
type worker struct {
	a     *Agent
	key   replicaKey
	name  string
	nudge chan struct{}
	log   *slog.Logger

	// Owned by run.
	drv       Driver
	spec      ReplicaSpec
	done      *coord.Command // the last command carried out
	following Endpoint       // the primary a standby was last told to follow
	sync      *SyncSpec      // what a primary was last configured with
	epoch     int64          // the epoch reported: the last command carried out
	token     *uint64        // a demoted primary's final position
	lost      *coord.LostLog // the diverged log last measured, reported until replaced
	replayed  bool           // WaitReplay's position reached
	lastErr   string
	// failingSince is when carrying out this replica's Init or Promote
	// began to fail; zero while it does not.
	failingSince time.Time
	// gaveUp is the epoch whose primary lease the worker gave up because
	// the server could not serve; it takes that epoch's lease no more.
	gaveUp int64

	mu    sync.Mutex
	lease *coord.PrimaryLease // held while the replica may be writable

	// fenceMu orders a fence after an unfence: the guard fences under it,
	// and the worker unfences under it only while the lease is valid.
	fenceMu sync.Mutex
}

func newWorker(a *Agent, k replicaKey) *worker {
	name := replicaName(k.svc.Name, k.n)
	return &worker{
		a: a, key: k, name: name, nudge: make(chan struct{}, 1),
		log: a.log.With("service", k.svc.String(), "replica", name),
	}
}

// poke asks the worker to look again now.
func (w *worker) poke() {
	select {
	case w.nudge <- struct{}{}:
	default:
	}
}

// run loops until ctx ends or the replica has nothing left here.
func (w *worker) run(ctx context.Context) {
	tick := time.NewTicker(w.a.cfg.ReportInterval)
	defer tick.Stop()
	for {
		if w.step(ctx) && w.a.retire(w) {
			w.log.Info("Replica no longer placed in this cluster")
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-w.nudge:
		case <-tick.C:
		}
	}
}

// step compares the replica with its command once and reports. It returns
// true when the replica has no command for this cluster and no server.
func (w *worker) step(ctx context.Context) bool {
	snap, err := w.a.store.Snapshot(ctx, w.key.svc)
	if err != nil {
		w.fail("read the coordination state", err)
		return false
	}
	cmd, ok := snap.Commands[w.key.n]
	mine := ok && cmd.Cluster == w.a.cfg.Cluster
	pod := w.a.pod(w.key)
	if !mine || pod == nil {
		w.stopServer(ctx)
		if !mine && w.drv == nil {
			if sess := w.a.sess(); sess != nil {
				if err := sess.Withdraw(ctx, w.key.svc, w.key.n); err != nil {
					w.fail("withdraw the report", err)
					return false
				}
			}
			return true
		}
		return false
	}
	spec, err := w.a.replicaSpec(ctx, pod)
	if err != nil {
		w.fail("find the replica's volume", err)
		return false
	}
	if w.drv == nil || w.spec != spec {
		w.stopServer(ctx)
		drv, err := w.a.newDriver(spec)
		if err != nil {
			w.fail("configure the replica's server", err)
			return false
		}
		if err := os.MkdirAll(spec.RunDir, 0o755); err != nil {
			w.fail("create the run directory", err)
			return false
		}
		w.drv, w.spec, w.done, w.following, w.sync, w.replayed = drv, spec, nil, Endpoint{}, nil, false
		w.log.Info("Replica found", "address", spec.Listen, "data", spec.DataDir)
	}
	if w.epoch == 0 {
		if r, ok := snap.Reports[w.key.n]; ok {
			w.epoch = r.Epoch // the previous run's, kept by the taken-over session
		}
	}
	if snap.Epoch == cmd.Epoch {
		if w.done == nil || !w.done.Same(cmd) || !w.satisfied(ctx, cmd) {
			w.carryOut(ctx, cmd)
		}
	}
	w.enforceLease(ctx)
	w.report(ctx, cmd)
	return false
}

// carryOut brings the replica to cmd and records the outcome.
func (w *worker) carryOut(ctx context.Context, cmd coord.Command) {
	if w.done == nil || !w.done.Same(cmd) {
		w.replayed, w.token = false, nil
	}
	err := w.apply(ctx, cmd)
	if errors.Is(err, errNotYet) {
		w.failingSince = time.Time{} // under way, not failing
		return
	}
	if err != nil {
		w.a.m.commands.WithLabelValues(string(cmd.Kind), "error").Inc()
		w.fail(fmt.Sprintf("carry out %s in epoch %d", cmd.Kind, cmd.Epoch), err)
		w.primaryFailing(ctx, cmd, err)
		return
	}
	w.failingSince = time.Time{}
	if w.done == nil || !w.done.Same(cmd) {
		w.a.m.commands.WithLabelValues(string(cmd.Kind), "done").Inc()
		w.log.Info("Command carried out", "kind", cmd.Kind, "epoch", cmd.Epoch, "primary", cmd.Primary)
	}
	c := cmd
	w.done, w.lastErr = &c, ""
}

// primaryFailing counts how long this replica has failed to become or stay
// the primary it is told to be, and past Config.PrimaryGiveUp stops its
// server and gives the lease up: the hub sees the lease end and promotes
// another replica, as for a lost region, instead of waiting on a server
// that cannot serve. Without the lease the worker only ever fences.
func (w *worker) primaryFailing(ctx context.Context, cmd coord.Command, cause error) {
	giveUp := w.a.cfg.PrimaryGiveUp
	if giveUp <= 0 || cmd.Primary != w.key.n || (cmd.Kind != coord.CommandInit && cmd.Kind != coord.CommandPromote) || w.gaveUp == cmd.Epoch {
		return
	}
	if !w.leaseValid() {
		// Not the server's fault, or not only: without a valid lease the
		// guard fences, and the hub fails over when the lease expires.
		w.failingSince = time.Time{}
		return
	}
	now := time.Now()
	if w.failingSince.IsZero() {
		w.failingSince = now
		return
	}
	if now.Sub(w.failingSince) < giveUp {
		return
	}
	if err := w.drv.Stop(ctx, true); err != nil {
		w.fail("stop the server before giving the primary up", err)
		return
	}
	if err := w.releaseLease(ctx, cmd.Epoch); err != nil {
		w.fail("give the primary lease up", err)
		return
	}
	w.a.m.givenUp.Inc()
	w.log.Warn("Gave the primary up: its server could not serve", "epoch", cmd.Epoch,
		"for", now.Sub(w.failingSince).Round(time.Second), "err", cause)
	w.gaveUp, w.failingSince = cmd.Epoch, time.Time{}
}

// errNotYet: the command is under way (a replay not reached yet).
var errNotYet = errors.New("not yet")

// apply performs cmd's step on the server.
func (w *worker) apply(ctx context.Context, cmd coord.Command) error {
	self := cmd.Primary == w.key.n
	switch cmd.Kind {
	case coord.CommandInit, coord.CommandPromote:
		if !self {
			return fmt.Errorf("%s names replica %d as the primary, not this one", cmd.Kind, cmd.Primary)
		}
		if w.gaveUp == cmd.Epoch {
			return fmt.Errorf("gave the primary lease of epoch %d up: the server could not serve; waiting for the hub to promote another replica", cmd.Epoch)
		}
		if err := w.holdLease(ctx, cmd.Epoch); err != nil {
			return err
		}
		if !w.leaseValid() {
			return errNotYet // renewals lag; the guard fenced or will
		}
		sync, err := w.syncSpec(ctx)
		if err != nil {
			return err
		}
		if cmd.Kind == coord.CommandInit {
			if err := w.drv.Init(ctx); err != nil {
				return err
			}
		} else if err := w.drv.Start(ctx); err != nil {
			return err
		}
		if err := w.open(ctx, sync); err != nil {
			return err
		}
		w.sync, w.epoch = &sync, cmd.Epoch
		w.watchdog()
		return nil
	case coord.CommandSeed, coord.CommandFollow, coord.CommandRewind:
		if self {
			return fmt.Errorf("%s names this replica as the primary to follow", cmd.Kind)
		}
		return w.followPrimary(ctx, cmd)
	case coord.CommandFence:
		return w.fenceIfWritable(ctx)
	case coord.CommandDemote:
		if !self {
			return fmt.Errorf("demote names replica %d, not this one", cmd.Primary)
		}
		token, err := w.drv.Demote(ctx)
		if err != nil {
			return err
		}
		if err := w.releaseLease(ctx, cmd.Epoch); err != nil {
			return err
		}
		w.token, w.epoch = &token, cmd.Epoch
		w.report(ctx, cmd)
		return nil
	case coord.CommandWaitReplay:
		if self {
			return errors.New("wait-replay names this replica as its own primary")
		}
		if err := w.followPrimary(ctx, cmd); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, w.a.cfg.ReportInterval)
		defer cancel()
		if err := w.drv.WaitReplay(wctx, cmd.Position); err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return errNotYet
			}
			return err
		}
		w.replayed = true
		w.report(ctx, cmd)
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd.Kind)
}

// open makes the server the writable primary, promoting a standby or
// lifting a fence, while the lease is valid.
func (w *worker) open(ctx context.Context, sync SyncSpec) error {
	w.fenceMu.Lock()
	defer w.fenceMu.Unlock()
	if !w.leaseValid() {
		return errNotYet
	}
	st, err := w.drv.Status(ctx)
	if err != nil {
		return err
	}
	if !st.Primary {
		return w.drv.Promote(ctx, sync)
	}
	if st.Writable && w.sync != nil && sync.equal(*w.sync) {
		return nil
	}
	return w.drv.Unfence(ctx, sync)
}

// satisfied reports whether the replica is still as the command it
// carried out left it.
func (w *worker) satisfied(ctx context.Context, cmd coord.Command) bool {
	switch cmd.Kind {
	case coord.CommandDemote:
		return true
	case coord.CommandWaitReplay:
		if !w.replayed {
			return false
		}
	}
	st, err := w.drv.Status(ctx)
	if err != nil {
		return cmd.Kind == coord.CommandFence // a stopped server is fenced
	}
	switch cmd.Kind {
	case coord.CommandInit, coord.CommandPromote:
		if !w.leaseValid() || !st.Primary || !st.Writable {
			return false
		}
		sync, err := w.syncSpec(ctx)
		return err != nil || w.sync == nil || sync.equal(*w.sync)
	case coord.CommandFence:
		return !st.Primary || !st.Writable
	default: // following
		ep, err := w.endpointOf(ctx, cmd.Primary)
		return !st.Primary && (err != nil || ep == w.following)
	}
}

// followPrimary makes the replica a standby of cmd's primary.
func (w *worker) followPrimary(ctx context.Context, cmd coord.Command) error {
	ep, err := w.endpointOf(ctx, cmd.Primary)
	if err != nil {
		return err
	}
	if st, err := w.drv.Status(ctx); err == nil && !st.Primary && w.following == ep {
		w.epoch = cmd.Epoch
		return nil
	}
	if err := w.fenceIfWritable(ctx); err != nil {
		return err
	}
	res, err := w.drv.Follow(ctx, ep)
	if l := res.Lost; l != nil {
		w.lost = &coord.LostLog{Epoch: cmd.Epoch, Timeline: l.Timeline, Fork: l.Fork, Bytes: l.Bytes,
			Transactions: l.Transactions, MeasuredAt: time.Now()}
		w.log.Info("Measured the log lost by the failover", "epoch", cmd.Epoch, "timeline", l.Timeline,
			"fork", l.Fork, "bytes", l.Bytes, "transactions", l.Transactions)
	}
	if err != nil {
		return err
	}
	w.a.m.follows.WithLabelValues(res.Path).Inc()
	w.log.Info("Following the primary", "primary", replicaName(w.key.svc.Name, cmd.Primary), "at", ep.Addr, "path", res.Path)
	w.following, w.epoch = ep, cmd.Epoch
	return nil
}

// endpointOf is where replica n's server listens, from its DNS record.
func (w *worker) endpointOf(ctx context.Context, n int) (Endpoint, error) {
	recs, err := w.a.dnsRecords(ctx, w.key.svc)
	if err != nil {
		return Endpoint{}, err
	}
	r, ok := recs[n]
	if !ok || len(r.Addresses) == 0 {
		return Endpoint{}, fmt.Errorf("%w: replica %s has no address published yet", errNotYet, replicaName(w.key.svc.Name, n))
	}
	return Endpoint{Addr: r.Addresses[0], Port: w.a.cfg.Port}, nil
}

// syncSpec is this replica's replication setup as primary now.
func (w *worker) syncSpec(ctx context.Context) (SyncSpec, error) {
	recs, err := w.a.dnsRecords(ctx, w.key.svc)
	if err != nil {
		return SyncSpec{}, err
	}
	n, scope := w.a.replication(w.key.svc)
	return syncSpec(w.key.svc.Name, w.key.n, recs, n, scope), nil
}

func (s SyncSpec) equal(o SyncSpec) bool {
	return slices.Equal(s.Standbys, o.Standbys) && slices.Equal(s.Synchronous, o.Synchronous) && s.Quorum == o.Quorum
}

// fenceIfWritable fences a writable primary.
func (w *worker) fenceIfWritable(ctx context.Context) error {
	st, err := w.drv.Status(ctx)
	if err != nil || !st.Primary || !st.Writable {
		return nil
	}
	return w.drv.Fence(ctx)
}

// enforceLease is the safety rule, checked every step: a primary this
// agent holds no lease for must not be writable.
func (w *worker) enforceLease(ctx context.Context) {
	if w.leaseValid() {
		return
	}
	st, err := w.drv.Status(ctx)
	if err != nil || !st.Primary || !st.Writable {
		return
	}
	w.selfFence(w.drv, w.deadlinePath(), w.a.cfg.FenceTimeout, "unleased", "writable without the primary lease")
}

// report writes the replica's report.
func (w *worker) report(ctx context.Context, cmd coord.Command) {
	sess := w.a.sess()
	if sess == nil {
		return
	}
	r := coord.Report{Time: time.Now(), Epoch: w.epoch, Lost: w.lost}
	if w.token != nil && cmd.Kind == coord.CommandDemote {
		r.Role, r.Position = coord.RoleFenced, *w.token
	} else {
		st, err := w.drv.Status(ctx)
		if err != nil {
			return
		}
		r.Position, r.Timeline = st.Position, st.Timeline
		switch {
		case st.Primary && st.Writable && w.leaseValid():
			r.Role = coord.RolePrimary
			for name, pos := range st.SyncAcks {
				if n, ok := ordinalOf(w.key.svc.Name, name); ok {
					r.SyncAcks = append(r.SyncAcks, coord.SyncAck{Replica: n, Position: pos})
				}
			}
		case st.Primary:
			r.Role = coord.RoleFenced
		default:
			r.Role = coord.RoleAsyncReplica
		}
	}
	if err := sess.Report(ctx, w.key.svc, w.key.n, r); err != nil {
		w.a.m.reports.WithLabelValues("error").Inc()
		w.fail("report", err)
		return
	}
	w.a.m.reports.WithLabelValues("ok").Inc()
}

// stopServer stops the replica's server when its pod is gone or its
// command went elsewhere, releasing its primary lease once it is down.
func (w *worker) stopServer(ctx context.Context) {
	if w.drv == nil {
		return
	}
	w.log.Info("Stopping the replica's server: its pod is gone or it was placed elsewhere")
	if err := w.drv.Stop(ctx, false); err != nil {
		w.fail("stop the server", err)
		return
	}
	w.mu.Lock()
	l := w.lease
	w.lease = nil
	w.mu.Unlock()
	if l != nil {
		_ = l.Release(ctx)
		w.a.m.primaries.Dec()
	}
	_ = os.Remove(w.deadlinePath())
	w.drv, w.done = nil, nil
}

// fail logs err unless it is the same as last time.
func (w *worker) fail(what string, err error) {
	msg := what + ": " + err.Error()
	if msg != w.lastErr {
		w.log.Warn("Cannot "+what, "err", err)
		w.lastErr = msg
	}
}

// deadlinePath is the fencing deadline file of the replica's watchdog.
func (w *worker) deadlinePath() string {
	return filepath.Join(w.spec.RunDir, "fence-deadline")
}
