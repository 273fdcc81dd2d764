package failover

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// asyncBudget is the RPO budget of the asynchronous runs, in bytes of
// log: fedstate's spec.replication.rpo.maxLagBytes and Patroni's
// maximum_lag_on_failover. 16 MiB is one PostgreSQL WAL segment, far
// above what a single client leaves behind on loopback, so that a failover
// is never refused for lag and the loss is what replication left.
const asyncBudget = 16 << 20

// benchFedstateAsync runs iters region losses of the primary of a
// service without synchronous standbys and with asyncBudget, while a
// client writes as fast as it can, and records per failover the client's
// write gap (async-unavailable), the acknowledged rows the new primary
// lacks (async-rows-lost), the loss fedstate reported
// (async-loss-reported-bytes) and the rows acknowledged in the second
// before the kill (async-rows-per-s). It deletes the service when done.
func benchFedstateAsync(b *testing.B, f *figures, iters int) {
	ctx := b.Context()
	spec := postgresService("bench-async", 3, 0, "eu-west")
	budget := int64(asyncBudget)
	spec.Spec.Replication.RPO = &v1alpha1.RPOBudget{MaxLagBytes: &budget}
	fss := startService(b, spec)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := &writer{service: fss.Name, fast: true}
	go w.run(wctx)
	hosts := &hostList{}
	var wr localfed.Writability
	go wr.WatchHosts(wctx, hosts.get)
	lost := map[int]bool{}
	for i := range iters {
		cur := waitSteady(b, fss.Name, w)
		old := *cur.Status.Primary
		oldAddr := primaryAddr(cur)
		for _, r := range cur.Status.ReplicaStatuses {
			hosts.add(netip.AddrPortFrom(netip.MustParseAddr(r.PodIP), pgPort).String())
		}
		killed := time.Now()
		if err := bed.StopCluster(old.Cluster); err != nil {
			b.Fatal(err)
		}
		down := time.Now()
		rate := w.rate(killed)
		ackedBefore := w.ackedRows()
		var now *v1alpha1.FederatedStatefulSet
		waitFor(b, 2*time.Minute, "a new primary published and a write through DNS", func() error {
			var err error
			if now, err = getService(ctx, fss.Name); err != nil {
				return err
			}
			p, h := now.Status.Primary, now.Status.FailoverHistory
			if p == nil || p.Epoch <= old.Epoch || p.Cluster == old.Cluster {
				return fmt.Errorf("%w: primary %+v", errNotYet, p)
			}
			if len(h) == 0 || h[0].Epoch != p.Epoch || h[0].PublishedAt == nil {
				return fmt.Errorf("%w: history %+v", errNotYet, h)
			}
			if _, _, ok := w.ackGap(down); !ok {
				return fmt.Errorf("%w: no write acknowledged since the kill; last error: %v", errNotYet, w.lastError())
			}
			return nil
		})
		rec := now.Status.FailoverHistory[0]
		lastOK, firstOK, _ := w.ackGap(down)
		n := newlyLost(b, netip.AddrPortFrom(primaryAddr(now), pgPort).String(), ackedBefore, lost)
		f.add("async-unavailable", firstOK.Sub(lastOK))
		f.count("async-rows-lost", int64(n))
		f.count("async-loss-reported-bytes", deref(rec.DataLossBytes))
		f.count("async-rows-per-s", int64(rate))
		b.Logf("async failover %d: %s-%d (%s, epoch %d) -> %s-%d (%s, epoch %d), reason %s; %d rows/s before the kill; unavailable %s; %d acknowledged rows lost, %d bytes of loss reported",
			i+1, fss.Name, old.Ordinal, old.Cluster, old.Epoch, fss.Name, rec.ToOrdinal, now.Status.Primary.Cluster, rec.Epoch,
			rec.Reason, rate, seconds(firstOK.Sub(lastOK)), n, deref(rec.DataLossBytes))
		restoreRegion(b, fss.Name, old, oldAddr)
	}
	stop()
	cur := waitSteady(b, fss.Name, nil)
	f.lost += unexplainedLoss(b, netip.AddrPortFrom(primaryAddr(cur), pgPort).String(), w.ackedRows(), lost)
	f.overlaps += overlapCount(b, &wr)
	if err := hubc.Delete(ctx, fss); err != nil {
		b.Fatal(err)
	}
}

// benchPatroniAsync runs iters losses of the leader of a Patroni cluster
// without synchronous mode, with the timings of prof and asyncBudget,
// while a client writes as fast as it can, and records them as
// benchFedstateAsync does, without a reported loss: Patroni reports none.
// It stops the cluster when done.
func benchPatroniAsync(b *testing.B, f *figures, iters int, prof patroniProfile) {
	ctx := b.Context()
	c := startPatroni(b, prof, false)
	defer c.close(b)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := &writer{locate: c.locate, fast: true}
	go w.run(wctx)
	var wr localfed.Writability
	go wr.WatchHosts(wctx, c.pgHosts)
	lost := map[int]bool{}
	for i := range iters {
		li, _ := c.waitHealthy(b, w)
		old := c.nodes[li]
		lctx, stopWatch := context.WithCancel(ctx)
		leaderKey, err := c.watchLeader(lctx)
		if err != nil {
			b.Fatal(err)
		}
		killed := time.Now()
		if err := old.kill(); err != nil {
			b.Fatal(err)
		}
		down := time.Now()
		rate := w.rate(killed)
		ackedBefore := w.ackedRows()
		var leader string
		waitFor(b, 3*time.Minute, "a new Patroni leader and a write through it", func() error {
			var taken time.Time
			if _, taken, leader = leaderKey.change(old.name); taken.IsZero() {
				return fmt.Errorf("%w: leader key not taken over yet", errNotYet)
			}
			if _, _, ok := w.ackGap(down); !ok {
				return fmt.Errorf("%w: no write acknowledged since the kill; last error: %v", errNotYet, w.lastError())
			}
			return nil
		})
		stopWatch()
		lastOK, firstOK, _ := w.ackGap(down)
		n := newlyLost(b, c.nodes[c.node(leader)].pgHost, ackedBefore, lost)
		f.add("async-unavailable", firstOK.Sub(lastOK))
		f.count("async-rows-lost", int64(n))
		f.count("async-rows-per-s", int64(rate))
		b.Logf("async failover %d: %s -> %s; %d rows/s before the kill; unavailable %s; %d acknowledged rows lost",
			i+1, old.name, leader, rate, seconds(firstOK.Sub(lastOK)), n)
		if err := old.start(c.cred); err != nil {
			b.Fatal(err)
		}
	}
	stop()
	li, _ := c.waitHealthy(b, nil)
	f.lost += unexplainedLoss(b, c.nodes[li].pgHost, w.ackedRows(), lost)
	f.overlaps += overlapCount(b, &wr)
}

// newlyLost returns how many rows of acked the server at hostPort lacks
// that are not in lost yet, and adds them to lost.
func newlyLost(t testing.TB, hostPort string, acked []int, lost map[int]bool) int {
	t.Helper()
	n := 0
	for _, id := range missingIDs(t, hostPort, acked) {
		if !lost[id] {
			lost[id] = true
			n++
		}
	}
	return n
}

// unexplainedLoss counts the rows of acked the server at hostPort lacks
// that no failover lost (rows lost in a failover never come back), and
// fails the test if there are any.
func unexplainedLoss(t testing.TB, hostPort string, acked []int, lost map[int]bool) int {
	t.Helper()
	missing := slices.DeleteFunc(missingIDs(t, hostPort, acked), func(id int) bool { return lost[id] })
	if len(missing) > 0 {
		t.Errorf("%d acknowledged rows missing on %s besides the %d the failovers lost", len(missing), hostPort, len(lost))
	}
	return len(missing)
}
