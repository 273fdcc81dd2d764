package coord

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReportAndSnapshot(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	a := startAgent(t, st, "agent-eu")
	now := time.Now().UTC()
	for n, pos := range map[int]uint64{0: 100, 1: 90} {
		r := Report{Role: RoleAsyncReplica, Position: pos, Timeline: 1, Time: now, Epoch: 0}
		if err := a.Report(t.Context(), svc1, n, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveState(t.Context(), svc1, hub.Guard(), []byte("idle")); err != nil {
		t.Fatal(err)
	}
	snap, err := st.Snapshot(t.Context(), svc1)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Epoch != 0 || snap.Primary != nil || snap.Lease != nil || string(snap.FailoverState) != "idle" || len(snap.Skipped) != 0 {
		t.Fatalf("Snapshot = %+v", snap)
	}
	got := snap.Reports[0]
	if len(snap.Reports) != 2 || got.Position != 100 || got.Agent != "agent-eu" || got.Cluster != "cluster-agent-eu" || !got.Time.Equal(now) {
		t.Fatalf("Reports = %+v", snap.Reports)
	}
	agents, _, err := st.Agents(t.Context())
	if err != nil || agents["agent-eu"].Cluster != "cluster-agent-eu" {
		t.Fatalf("Agents = %+v, %v", agents, err)
	}

	// Reports live as long as the agent's session.
	if err := a.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap, err = st.Snapshot(t.Context(), svc1)
	if err != nil || len(snap.Reports) != 0 {
		t.Fatalf("reports after the session ended: %+v, %v", snap.Reports, err)
	}
	if agents, _, err := st.Agents(t.Context()); err != nil || len(agents) != 0 {
		t.Fatalf("Agents after the session ended = %+v, %v", agents, err)
	}
}

// TestReportRejectedAfterSessionEnded: once the session is over, Report
// fails with ErrSessionEnded and writes nothing, whether the agent closed
// it or etcd dropped its lease without the agent noticing yet.
func TestReportRejectedAfterSessionEnded(t *testing.T) {
	r := Report{Role: RoleAsyncReplica, Position: 1, Time: time.Now()}
	t.Run("closed", func(t *testing.T) {
		st := newStore(t)
		a := startAgent(t, st, "agent-eu")
		if err := a.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		before := dump(t, st)
		if err := a.Report(t.Context(), svc1, 0, r); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("Report = %v, want ErrSessionEnded", err)
		}
		if err := sameKVs(before, dump(t, st)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("revoked on the server", func(t *testing.T) {
		st := newStore(t, func(c *Config) { c.RenewInterval = 1400 * time.Millisecond })
		a := startAgent(t, st, "agent-eu")
		if _, err := st.Client().Revoke(t.Context(), a.Lease()); err != nil {
			t.Fatal(err)
		}
		// The next renewal is up to 1.4 s away: the server must refuse on its own.
		before := dump(t, st)
		if err := a.Report(t.Context(), svc1, 0, r); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("Report = %v, want ErrSessionEnded", err)
		}
		if err := sameKVs(before, dump(t, st)); err != nil {
			t.Fatal(err)
		}
		if !closedWithin(a.Done(), time.Second) {
			t.Error("Done still open after a write found the session gone")
		}
	})
}

// TestStartAgentTakeOver: a second StartAgent of a live name takes the
// session over (an agent restarted within its TTL) when it serves the same
// cluster, and is refused for another cluster.
func TestStartAgentTakeOver(t *testing.T) {
	st := newStore(t)
	a := startAgent(t, st, "agent-eu")
	if err := a.Report(t.Context(), svc1, 3, Report{Role: RoleAsyncReplica, Position: 9, Epoch: 1, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartAgent(t.Context(), "agent-eu", "elsewhere"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a session of the name for another cluster: %v, want ErrConflict", err)
	}
	a.Abandon()
	if !closedWithin(a.Done(), time.Second) {
		t.Fatal("Done still open after Abandon")
	}
	b, err := st.StartAgent(t.Context(), "agent-eu", "cluster-agent-eu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	if b.Lease() != a.Lease() {
		t.Errorf("restarted agent runs lease %x, want the taken-over %x", b.Lease(), a.Lease())
	}
	time.Sleep(2 * b.TTL()) // the old run renews nothing any more
	snap, err := st.Snapshot(t.Context(), svc1)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := snap.Reports[3]; !ok || r.Position != 9 {
		t.Fatalf("report of the previous run after two TTLs: %+v, %v; want it kept by the new run", r, ok)
	}
	other := startAgent(t, st, "agent-us")
	if err := other.Withdraw(t.Context(), svc1, 3); err != nil {
		t.Fatal(err)
	}
	if snap, err := st.Snapshot(t.Context(), svc1); err != nil || len(snap.Reports) != 1 {
		t.Fatalf("another agent withdrew the report: %+v, %v", snap.Reports, err)
	}
	if err := b.Withdraw(t.Context(), svc1, 3); err != nil {
		t.Fatal(err)
	}
	if snap, err := st.Snapshot(t.Context(), svc1); err != nil || len(snap.Reports) != 0 {
		t.Fatalf("reports after Withdraw: %+v, %v; want none", snap.Reports, err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if snap, err := st.Snapshot(t.Context(), svc1); err != nil || len(snap.Reports) != 0 {
		t.Fatalf("reports after Close: %+v, %v; want none", snap.Reports, err)
	}
	startAgent(t, st, "agent-eu")
}

// TestWatchService sees a report put and the primary lease expire when
// its holder's client dies.
func TestWatchService(t *testing.T) {
	t.Parallel() // waits for TTLs and servers; runs beside the others
	hub := newStore(t)
	promoteFirst(t, hub, campaign(t, hub, "hub"), svc1, 0)
	agentStore, err := Connect(t.Context(), testConfig(t, etcdURL))
	if err != nil {
		t.Fatal(err)
	}
	a, err := agentStore.StartAgent(t.Context(), "agent-eu", "eu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.HoldPrimary(t.Context(), svc1, 0, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	events := hub.WatchService(ctx, svc1, 0)
	if err := a.Report(t.Context(), svc1, 0, Report{Role: RolePrimary, Position: 7, Epoch: 1, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := agentStore.Close(); err != nil { // keepalives stop; nothing is revoked
		t.Fatal(err)
	}
	var sawReport, sawReportGone, sawLeaseGone bool
	for !sawReport || !sawReportGone || !sawLeaseGone {
		select {
		case wr := <-events:
			if wr.Err != nil {
				t.Fatal(wr.Err)
			}
			for _, ev := range wr.Events {
				switch {
				case ev.Key == ReportKey(svc1, 0) && !ev.Deleted:
					r, err := DecodeReport(ev.Value)
					sawReport = err == nil && r.Position == 7
				case ev.Key == ReportKey(svc1, 0) && ev.Deleted:
					sawReportGone = true
				case ev.Key == ServiceKey(svc1, KindLease) && ev.Deleted:
					h, err := DecodeHolder(ev.PrevValue)
					sawLeaseGone = err == nil && h.Agent == "agent-eu"
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("report %v, report expired %v, lease expired %v", sawReport, sawReportGone, sawLeaseGone)
		}
	}
	cancel()
	for range events { // the channel closes after cancel
	}
}

// TestWatchAll follows every service and the agents; election keys are
// left out.
func TestWatchAll(t *testing.T) {
	st := newStore(t)
	events := st.Watch(t.Context(), 0)
	campaign(t, st, "hub")
	a := startAgent(t, st, "agent-eu")
	other := Service{Namespace: "prod", Name: "cache"}
	if err := a.Report(t.Context(), other, 1, Report{Role: RoleAsyncReplica, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	want := []Key{AgentKey("agent-eu"), ReportKey(other, 1)}
	var got []Key
	for len(got) < len(want) {
		select {
		case wr := <-events:
			if wr.Err != nil {
				t.Fatal(wr.Err)
			}
			for _, ev := range wr.Events {
				got = append(got, ev.Key)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}
