package coordinator_test

import (
	"fmt"
	"testing"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
)

// TestSwitchover: a switchover request demotes the primary, waits for the
// target to replay the demoted primary's final position, commits, then
// promotes the target. The etcd history proves the order, and that the
// DNS primary record changed exactly once, in the commit's transaction,
// after the target had replayed everything.
func TestSwitchover(t *testing.T) {
	e := newEnv(t)
	// db-1 replays 256 KiB behind: catching up after the demotion takes
	// 16 ticks, so the hub must wait for it.
	f := startFleet(t, e, []uint64{0, 256 << 10, 64 << 10})
	e.startHub(t, "hub-a", nil)
	e.createService(spec{})
	waitStable(t, e, 1, 0)
	waitLagging(t, e, 1, 2)
	start := e.revision()

	e.annotate(v1alpha1.AnnotationSwitchover, "id=s1,to=us-1")
	waitStable(t, e, 2, 1)
	eventually(t, timeout, "request s1 succeeded", func() error {
		rs := requestStatus(e.get(), v1alpha1.RequestSwitchover)
		if rs == nil || rs.ID != "s1" || rs.Phase != v1alpha1.RequestSucceeded {
			return fmt.Errorf("request %+v", rs)
		}
		return nil
	})

	h := e.history(start)
	demote := h.first("Demote to db-0", func(ev historyEvent) bool {
		c, ok := ev.command(0)
		return ok && c.Kind == coord.CommandDemote && c.Epoch == 1
	}, 0)
	demoted := h.first("db-0 reports its final position", func(ev historyEvent) bool {
		r, ok := ev.report(0)
		return ok && r.Role == coord.RoleFenced && r.Epoch == 1
	}, demote.rev)
	final := demoted.mustReport(t, 0).Position
	released := h.first("db-0 releases its lease", func(ev historyEvent) bool { return ev.is(coord.KindLease) && ev.deleted }, demote.rev)
	wait := h.first("WaitReplay to db-1", func(ev historyEvent) bool {
		c, ok := ev.command(1)
		return ok && c.Kind == coord.CommandWaitReplay && c.Epoch == 1 && c.Position == final && c.Primary == 0
	}, max(demoted.rev, released.rev)-1)
	replayed := h.first("db-1 replayed the final position", func(ev historyEvent) bool {
		r, ok := ev.report(1)
		return ok && r.Position >= final && r.Epoch == 1
	}, wait.rev)
	commit := h.first("epoch 2 committed", func(ev historyEvent) bool { return ev.is(coord.KindEpoch) && string(ev.value) == "2" }, replayed.rev)
	h.first("Promote to db-1", func(ev historyEvent) bool {
		c, ok := ev.command(1)
		return ok && c.Kind == coord.CommandPromote && c.Epoch == 2
	}, commit.rev)
	h.first("Follow to db-0, without a rewind", func(ev historyEvent) bool {
		c, ok := ev.command(0)
		return ok && c.Kind == coord.CommandFollow && c.Epoch == 2 && c.Primary == 1
	}, commit.rev)
	var flips []int64
	for _, ev := range h.events {
		if ev.key == e.primaryKey {
			flips = append(flips, ev.rev)
		}
	}
	if len(flips) != 1 || flips[0] != commit.rev {
		t.Errorf("DNS primary written at revisions %v, want once, at the commit's revision %d", flips, commit.rev)
	}
	t.Logf("revisions: Demote %d, final position %d reported %d, lease released %d, WaitReplay %d, replayed %d, commit and DNS %d",
		demote.rev, final, demoted.rev, released.rev, wait.rev, replayed.rev, commit.rev)
	if r := e.get().Status.FailoverHistory[0]; r.Reason != "Switchover" || r.DataLossBytes == nil || *r.DataLossBytes != 0 {
		t.Errorf("failover record %+v", r)
	}
	if p := f.position(1); p < final {
		t.Errorf("new primary at %d, before the old primary's final position %d", p, final)
	}
	f.noSplitBrain()
}
