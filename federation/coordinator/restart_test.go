package coordinator_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fedstate/fedstate/federation/coordinator"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

// dying wraps the store's Promote like a hub that dies in the middle of a
// failover: the first promotion after the bootstrap is committed or not
// (commit), then it signals reached and hangs until the hub is stopped,
// so that nothing after it is carried out.
type dying struct {
	next    coordinator.Promoter
	commit  bool
	reached chan struct{}
	once    sync.Once
}

// Promote commits (or not), then hangs.
func (d *dying) Promote(ctx context.Context, req coord.PromoteRequest) (coord.PromoteResult, error) {
	if req.OldEpoch == 0 {
		return d.next.Promote(ctx, req)
	}
	var res coord.PromoteResult
	if d.commit {
		var err error
		if res, err = d.next.Promote(ctx, req); err != nil {
			return res, err
		}
	}
	d.once.Do(func() { close(d.reached) })
	<-ctx.Done()
	return res, ctx.Err()
}

// TestHubRestartMidFailover stops the hub leading a failover right before
// and right after its promotion transaction, and starts another: the new
// leader resumes from the state in etcd and the service ends with exactly
// one primary, promoted once (one epoch more, never two), and never two
// writable primaries.
func TestHubRestartMidFailover(t *testing.T) {
	for _, tc := range []struct {
		name      string
		committed bool
	}{
		{name: "before the commit", committed: false},
		{name: "after the commit", committed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			f := startFleet(t, e, []uint64{0, 8 << 10, 64 << 10})
			d := &dying{commit: tc.committed, reached: make(chan struct{})}
			a := e.startHub(t, "hub-a", func(p coordinator.Promoter) coordinator.Promoter { d.next = p; return d })
			budget := int64(1 << 20)
			e.createService(spec{rpoBytes: &budget})
			waitStable(t, e, 1, 0)
			waitLagging(t, e, 1, 2)
			start := e.revision()

			f.partition("eu-1")
			select {
			case <-d.reached:
			case <-time.After(timeout):
				t.Fatal("hub-a did not reach the promotion")
			}
			a.stop()
			snap := e.snapshot()
			if want := map[bool]int64{false: 1, true: 2}[tc.committed]; snap.Epoch != want {
				t.Fatalf("epoch %d when hub-a stopped, want %d", snap.Epoch, want)
			}
			if c := snap.Commands[1]; c.Kind == coord.CommandPromote {
				t.Fatalf("hub-a wrote %+v before it stopped", c)
			}

			e.startHub(t, "hub-b", nil)
			waitStable(t, e, 2, 1)
			consistently(t, 2*time.Second, "one primary, one promotion", func() error {
				if snap := e.snapshot(); snap.Epoch != 2 || snap.Primary.Replica != 1 {
					return fmt.Errorf("epoch %d primary %+v", snap.Epoch, snap.Primary)
				}
				if p := f.primaries(); len(p) != 1 || p[0] != 1 {
					return fmt.Errorf("writable primaries %v", p)
				}
				return nil
			})
			var epochs []string
			for _, ev := range e.history(start).events {
				if ev.is(coord.KindEpoch) {
					epochs = append(epochs, string(ev.value))
				}
			}
			if len(epochs) != 1 || epochs[0] != "2" {
				t.Errorf("epoch written %v since the partition, want once, 2", epochs)
			}
			h := e.get().Status.FailoverHistory
			if len(h) != 2 || h[0].Epoch != 2 || h[0].PromotedAt == nil || h[1].Epoch != 1 {
				t.Errorf("history %+v", h)
			}
			f.noSplitBrain()
		})
	}
}

// TestNewLeaderIgnoresStaleReports: while no hub leads, the agent of the
// most advanced standby (db-1) dies, then the primary's. The stored state
// still holds db-1's last position; the new leader must not trust it: the
// report is gone, so db-1 counts as unreachable and db-2 is promoted.
func TestNewLeaderIgnoresStaleReports(t *testing.T) {
	e := newEnv(t)
	// db-2 stays far behind: only db-1's stale position would beat it.
	f := startFleet(t, e, []uint64{0, 8 << 10, 64 << 20})
	a := e.startHub(t, "hub-a", nil)
	budget := int64(1 << 30)
	e.createService(spec{rpoBytes: &budget})
	waitStable(t, e, 1, 0)
	waitLagging(t, e, 1, 2)
	eventually(t, timeout, "db-1's position in the stored state", func() error {
		st, err := failover.Decode(e.snapshot().FailoverState)
		if err != nil {
			return err
		}
		if r := st.Replica("db-1"); r == nil || r.ReportedAt.IsZero() || r.Position == 0 {
			return fmt.Errorf("db-1 %+v", r)
		}
		return nil
	})
	a.stop()

	for _, c := range []struct {
		cluster string
		gone    func(*coord.Snapshot) bool
	}{
		{"us-1", func(s *coord.Snapshot) bool { _, ok := s.Reports[1]; return !ok }},
		{"eu-1", func(s *coord.Snapshot) bool { return s.Lease == nil }},
	} {
		f.partition(c.cluster)
		eventually(t, timeout, "the agent of "+c.cluster+" gone from etcd", func() error {
			if !c.gone(e.snapshot()) {
				return fmt.Errorf("still there")
			}
			return nil
		})
	}
	e.startHub(t, "hub-b", nil)
	waitStable(t, e, 2, 2)
	if r := e.get().Status.FailoverHistory[0]; r.ToOrdinal != 2 || r.Reason != "LeaseExpired" {
		t.Errorf("failover record %+v", r)
	}
	f.noSplitBrain()
}
