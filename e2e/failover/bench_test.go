package failover

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// BenchmarkFailover is make bench-failover: fedstate and Patroni side by
// side on the same machine, each with a 3-replica PostgreSQL 15 service
// while a client writes:
//
//   - failover after the loss of the primary's region (fedstate) or of the
//     leader (Patroni), with synchronous replication and one row at a time
//     every 50 ms: the time to each step and the client's write gap;
//   - planned switchovers on the same service: the client's write gap;
//   - failover with asynchronous replication while the client writes as
//     fast as it can: the acknowledged rows the new primary lacks, and the
//     loss fedstate reported.
//
// fedstate does BENCH_FAILOVER_ITER (default 5) of each, Patroni
// BENCH_PATRONI_ITER (default BENCH_FAILOVER_ITER) of each per profile: its
// defaults and timings matched to fedstate's. Per figure the benchmark
// reports the median and the maximum, and it fails on a row lost where
// none may be or a sample that found two writable servers.
func BenchmarkFailover(b *testing.B) {
	iters := envCount(b, "BENCH_FAILOVER_ITER", 5)
	patroniIters := envCount(b, "BENCH_PATRONI_ITER", iters)
	var all []*figures
	// A part that fails stops its system's run; what it measured until
	// then is still reported and in the table.
	b.Run("fedstate", func(b *testing.B) {
		f := newFigures(fmt.Sprintf("fedstate (lease TTL %v)", leaseTTL))
		all = append(all, f)
		defer f.done(b)
		benchFedstate(b, f, iters)
		benchFedstateAsync(b, f, iters)
	})
	for _, p := range patroniProfiles() {
		b.Run(p.name, func(b *testing.B) {
			f := newFigures(fmt.Sprintf("Patroni %s (ttl %d s, loop_wait %d s, retry_timeout %d s)",
				p.name[len("patroni-"):], p.ttl, p.loopWait, p.retryTimeout))
			all = append(all, f)
			defer f.done(b)
			benchPatroni(b, f, patroniIters, p)
			benchPatroniAsync(b, f, patroniIters, p)
		})
	}
	if len(all) > 0 {
		b.Logf("fedstate %d, Patroni %d per profile of each: failovers, switchovers, asynchronous failovers:\n%s",
			iters, patroniIters, table(all))
	}
}

// envCount is the positive number in the environment variable name, or
// def when it is unset.
func envCount(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

// benchFedstate runs iters region losses of the primary of a service with
// a synchronous standby on the package's federation, then iters planned
// switchovers, and records them in f. It deletes the service when done.
func benchFedstate(b *testing.B, f *figures, iters int) {
	ctx := b.Context()
	fss := startService(b, postgresService("bench", 3, 1, "eu-west"))
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := &writer{service: fss.Name}
	go w.run(wctx)
	hosts := &hostList{}
	var wr localfed.Writability
	go wr.WatchHosts(wctx, hosts.get)
	for i := range iters {
		cur := waitSteady(b, fss.Name, w)
		old := *cur.Status.Primary
		oldAddr := primaryAddr(cur)
		var survivors []string
		for _, r := range cur.Status.ReplicaStatuses {
			h := netip.AddrPortFrom(netip.MustParseAddr(r.PodIP), pgPort).String()
			hosts.add(h)
			if r.Cluster != old.Cluster {
				survivors = append(survivors, h)
			}
		}

		killed := time.Now()
		writable := firstWritable(ctx, survivors)
		if err := bed.StopCluster(old.Cluster); err != nil {
			b.Fatal(err)
		}
		down := time.Now()
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
			if len(h) == 0 || h[0].Epoch != p.Epoch || h[0].DetectedAt == nil || h[0].CommittedAt == nil ||
				h[0].PromotedAt == nil || h[0].PublishedAt == nil {
				return fmt.Errorf("%w: history %+v", errNotYet, h)
			}
			if _, _, ok := w.ackGap(down); !ok {
				return fmt.Errorf("%w: no write acknowledged since the kill; last error: %v", errNotYet, w.lastError())
			}
			return nil
		})
		rec := now.Status.FailoverHistory[0]
		lastOK, firstOK, _ := w.ackGap(down)
		f.add("detected", rec.DetectedAt.Sub(killed))
		f.add("committed", rec.CommittedAt.Sub(killed))
		f.add("promoted", rec.PromotedAt.Sub(killed))
		f.add("writable", waitWritable(b, writable).Sub(killed))
		f.add("published", rec.PublishedAt.Sub(killed))
		f.add("first-write", firstOK.Sub(killed))
		f.add("unavailable", firstOK.Sub(lastOK))
		f.add("detected-to-write", firstOK.Sub(rec.DetectedAt.Time))
		lost := missingRows(b, netip.AddrPortFrom(primaryAddr(now), pgPort).String(), ackedBefore)
		f.lost += lost
		b.Logf("failover %d: %s-%d (%s, epoch %d) -> %s-%d (%s, epoch %d), reason %s, data loss %v bytes; from the kill: detected %s, committed %s, promoted %s, published %s, first write %s; unavailable %s; %d rows lost",
			i+1, fss.Name, old.Ordinal, old.Cluster, old.Epoch, fss.Name, rec.ToOrdinal, now.Status.Primary.Cluster, rec.Epoch,
			rec.Reason, deref(rec.DataLossBytes), seconds(rec.DetectedAt.Sub(killed)), seconds(rec.CommittedAt.Sub(killed)),
			seconds(rec.PromotedAt.Sub(killed)), seconds(rec.PublishedAt.Sub(killed)), seconds(firstOK.Sub(killed)),
			seconds(firstOK.Sub(lastOK)), lost)
		b.Logf("failover %d: the client's last error before its first write: %v", i+1, w.lastError())

		restoreRegion(b, fss.Name, old, oldAddr)
	}
	switchoversFedstate(b, f, fss.Name, w, hosts, iters)
	stop()
	cur := waitSteady(b, fss.Name, nil)
	f.lost += missingRows(b, netip.AddrPortFrom(primaryAddr(cur), pgPort).String(), w.ackedRows())
	f.overlaps += overlapCount(b, &wr)
	if err := hubc.Delete(ctx, fss); err != nil {
		b.Fatal(err)
	}
}

// restoreRegion starts the lost region of old again and waits until old,
// at oldAddr, follows the service's new primary, not writable.
func restoreRegion(b *testing.B, name string, old v1alpha1.PrimaryStatus, oldAddr netip.Addr) {
	ctx := b.Context()
	if err := bed.StartCluster(ctx, old.Cluster); err != nil {
		b.Fatal(err)
	}
	waitFor(b, 3*time.Minute, "the old primary following the new one", func() error {
		cur, err := getService(ctx, name)
		if err != nil {
			return err
		}
		for _, r := range cur.Status.ReplicaStatuses {
			if r.Ordinal == old.Ordinal && r.Role != v1alpha1.RoleSyncStandby && r.Role != v1alpha1.RoleAsyncReplica {
				return fmt.Errorf("%w: old primary's role %s", errNotYet, r.Role)
			}
		}
		if ok, err := isWritable(ctx, oldAddr); err == nil && ok {
			return fmt.Errorf("old primary %v is writable", oldAddr)
		}
		return nil
	})
}

// waitSteady waits until the service is steady, its last change of
// primary published, every other replica streaming from the primary, DNS
// names the primary and, with a writer, a row was acknowledged in the
// last second.
func waitSteady(t testing.TB, name string, w *writer) *v1alpha1.FederatedStatefulSet {
	t.Helper()
	var cur *v1alpha1.FederatedStatefulSet
	waitFor(t, 3*time.Minute, "a steady service taking writes", func() error {
		var err error
		if cur, err = getService(t.Context(), name); err != nil {
			return err
		}
		if err := steady(cur); err != nil {
			return err
		}
		if h := cur.Status.FailoverHistory; len(h) > 0 && h[0].Reason != "Bootstrap" && h[0].PublishedAt == nil {
			return fmt.Errorf("%w: epoch %d not published yet", errNotYet, h[0].Epoch)
		}
		n, err := streamingStandbys(t.Context(), netip.AddrPortFrom(primaryAddr(cur), pgPort).String())
		if err != nil {
			return err
		}
		if n != int(cur.Spec.Replicas)-1 {
			return fmt.Errorf("%w: %d standbys streaming", errNotYet, n)
		}
		addr, err := lookupPrimary(name)
		if err != nil {
			return err
		}
		if want := primaryAddr(cur); addr != want {
			return fmt.Errorf("%w: DNS names %v, the primary is %v", errNotYet, addr, want)
		}
		if w != nil {
			if _, _, ok := w.ackGap(time.Now().Add(-time.Second)); !ok {
				return fmt.Errorf("%w: no row acknowledged in the last second", errNotYet)
			}
		}
		return nil
	})
	return cur
}

// missingRows counts the rows of acked the server at hostPort lacks and
// fails the test if it lacks any.
func missingRows(t testing.TB, hostPort string, acked []int) int {
	t.Helper()
	n := len(missingIDs(t, hostPort, acked))
	if n > 0 {
		t.Errorf("%d acknowledged rows missing on %s", n, hostPort)
	}
	return n
}

// missingIDs returns the rows of acked the server at hostPort lacks.
func missingIDs(t testing.TB, hostPort string, acked []int) []int {
	t.Helper()
	var have map[int]bool
	waitFor(t, 30*time.Second, "the rows of "+hostPort, func() error {
		var err error
		have, err = rowsAtHost(t.Context(), hostPort)
		return err
	})
	var out []int
	for _, id := range acked {
		if !have[id] {
			out = append(out, id)
		}
	}
	return out
}

// firstWritable polls the servers at hosts every 50 ms and sends when the
// first of them accepted writes; it gives up when ctx ends.
func firstWritable(ctx context.Context, hosts []string) <-chan time.Time {
	out := make(chan time.Time, 1)
	go func() {
		for ctx.Err() == nil {
			for _, h := range hosts {
				if ok, err := localfed.IsWritableAt(ctx, h); err == nil && ok {
					out <- time.Now()
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return out
}

// waitWritable waits for the time firstWritable sends.
func waitWritable(t testing.TB, ch <-chan time.Time) time.Time {
	t.Helper()
	select {
	case at := <-ch:
		return at
	case <-time.After(time.Minute):
		t.Fatal("no survivor became writable within a minute")
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	}
	return time.Time{}
}

// overlapCount fails the test for every sample that found two writable
// servers and returns their number.
func overlapCount(t testing.TB, wr *localfed.Writability) int {
	samples, overlaps := wr.Result()
	if len(overlaps) > 0 {
		t.Errorf("two writable servers at %d of %d samples: %v", len(overlaps), samples, overlaps)
	}
	return len(overlaps)
}

// hostList is the set of host:port pairs a writability sampler watches;
// safe for concurrent use.
type hostList struct {
	mu    sync.Mutex
	hosts []string
}

func (l *hostList) add(h string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.hosts {
		if x == h {
			return
		}
	}
	l.hosts = append(l.hosts, h)
}

func (l *hostList) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.hosts...)
}

// deref is *p, or -1 when p is nil.
func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}
