package coord

import (
	"context"
	"errors"
	"testing"
	"time"
)

// promoteFirst makes replica the first primary of svc (epoch 1) as leader
// l and returns the snapshot after it.
func promoteFirst(t testing.TB, st *Store, l *Leader, svc Service, replica int) *Snapshot {
	t.Helper()
	if _, err := st.Promote(t.Context(), PromoteRequest{Service: svc, Leader: l.Guard(), NewPrimary: replica}); err != nil {
		t.Fatal(err)
	}
	snap, err := st.Snapshot(t.Context(), svc)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestHoldPrimary(t *testing.T) {
	st := newStore(t)
	promoteFirst(t, st, campaign(t, st, "hub"), svc1, 2)
	a := startAgent(t, st, "agent-eu")

	if _, err := a.HoldPrimary(t.Context(), svc1, 2, 2); !errors.Is(err, ErrFenced) {
		t.Errorf("HoldPrimary in a future epoch: %v, want ErrFenced", err)
	}
	if _, err := a.HoldPrimary(t.Context(), svc1, 1, 1); !errors.Is(err, ErrFenced) {
		t.Errorf("HoldPrimary of a replica that is not the primary: %v, want ErrFenced", err)
	}
	snap, err := st.Snapshot(t.Context(), svc1)
	if err != nil || snap.Lease != nil {
		t.Fatalf("refused HoldPrimary left a lease: %+v, %v", snap, err)
	}

	l, err := a.HoldPrimary(t.Context(), svc1, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if l.TTL() != 3*time.Second {
		t.Errorf("TTL = %v, want the configured 3s", l.TTL())
	}
	first := l.LastRenewed()
	poll(t, 5*time.Second, "a renewal", func() error {
		if !l.LastRenewed().After(first) {
			return errors.New("LastRenewed did not advance")
		}
		return nil
	})
	snap, err = st.Snapshot(t.Context(), svc1)
	if err != nil {
		t.Fatal(err)
	}
	want := Holder{Replica: 2, Epoch: 1, Agent: "agent-eu"}
	if snap.Lease == nil || snap.Lease.Holder != want || snap.Lease.ID != l.Lease() {
		t.Fatalf("Snapshot lease = %+v, want %+v on lease %x", snap.Lease, want, l.Lease())
	}

	other := startAgent(t, st, "agent-us")
	if _, err := other.HoldPrimary(t.Context(), svc1, 2, 1); !errors.Is(err, ErrConflict) {
		t.Errorf("second holder: %v, want ErrConflict", err)
	}

	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(l.Done(), time.Second) || !errors.Is(l.Err(), ErrLeaseLost) {
		t.Fatalf("after Release: Err = %v, want Done closed and ErrLeaseLost", l.Err())
	}
	if snap, err := st.Snapshot(t.Context(), svc1); err != nil || snap.Lease != nil {
		t.Fatalf("after Release: lease %+v, %v; want none", snap.Lease, err)
	}
	if _, err := other.HoldPrimary(t.Context(), svc1, 2, 1); err != nil {
		t.Errorf("HoldPrimary after the release: %v", err)
	}
}

// TestHoldPrimaryDoneOnRevoke: revoking the lease on the server (as an
// operator or a lease expiry would) closes Done.
func TestHoldPrimaryDoneOnRevoke(t *testing.T) {
	st := newStore(t)
	promoteFirst(t, st, campaign(t, st, "hub"), svc1, 0)
	l, err := startAgent(t, st, "agent-eu").HoldPrimary(t.Context(), svc1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := st.Client().Revoke(t.Context(), l.Lease()); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(l.Done(), 5*time.Second) {
		t.Fatal("Done still open after the lease was revoked")
	}
	t.Logf("Done closed %v after the revoke", time.Since(start).Round(time.Millisecond))
	if !errors.Is(l.Err(), ErrLeaseLost) {
		t.Errorf("Err = %v, want ErrLeaseLost", l.Err())
	}
}

// TestHoldPrimaryDoneOnPromotion: a promotion deletes the lease key in its
// transaction, which ends the old holder's lease at once (a forced
// failover naming the lease it takes over).
func TestHoldPrimaryDoneOnPromotion(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	promoteFirst(t, st, hub, svc1, 0)
	l, err := startAgent(t, st, "agent-eu").HoldPrimary(t.Context(), svc1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := st.Snapshot(t.Context(), svc1)
	if err != nil {
		t.Fatal(err)
	}
	req := PromoteRequest{Service: svc1, Leader: hub.Guard(), OldEpoch: 1, NewPrimary: 1}
	if _, err := st.Promote(t.Context(), req); !errors.Is(err, ErrConflict) {
		t.Fatalf("Promote ignoring a held lease: %v, want ErrConflict", err)
	}
	req.LeaseRevision = snap.Lease.Revision
	if _, err := st.Promote(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(l.Done(), 5*time.Second) {
		t.Fatal("Done of the deposed holder still open")
	}
	if !errors.Is(l.Err(), ErrLeaseLost) {
		t.Errorf("Err = %v, want ErrLeaseLost", l.Err())
	}
}

// TestHoldPrimaryPartition cuts the holder's network with a fault proxy:
// its renewals stop, it can tell it must fence itself (no renewal for
// TTL/2) before the lease expires, and the coordinator sees the expiry
// through WatchService no earlier than LastRenewed+TTL.
func TestHoldPrimaryPartition(t *testing.T) {
	t.Parallel() // waits for TTLs and servers; runs beside the others
	hub := newStore(t)
	promoteFirst(t, hub, campaign(t, hub, "hub"), svc1, 4)
	net := startProxy(t, etcdURL)
	agentStore := newStore(t, func(c *Config) { c.Endpoints = []string{net.URL()} })
	l, err := startAgent(t, agentStore, "agent-eu").HoldPrimary(t.Context(), svc1, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := hub.Snapshot(t.Context(), svc1)
	if err != nil || snap.Lease == nil {
		t.Fatalf("lease not visible to the hub: %+v, %v", snap, err)
	}
	events := hub.WatchService(t.Context(), svc1, snap.Revision+1)

	net.Partition()
	cut := time.Now()
	var fenced time.Time // when the holder knew it had to fence
	poll(t, 5*time.Second, "holder self-fence", func() error {
		if time.Now().Before(l.WritableUntil()) {
			return errors.New("holder still within TTL/2 of its last renewal")
		}
		fenced = time.Now()
		return nil
	})
	var expired time.Time
	for expired.IsZero() {
		select {
		case wr, ok := <-events:
			if !ok || wr.Err != nil {
				t.Fatalf("watch ended: %v", wr.Err)
			}
			for _, ev := range wr.Events {
				if ev.Key.Kind == KindLease && ev.Deleted {
					expired = time.Now()
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the hub saw no lease expiry")
		}
	}
	last := l.LastRenewed()
	t.Logf("after the cut: holder fences at %v, hub sees the expiry at %v (last renewal sent %v before the cut)",
		fenced.Sub(cut).Round(time.Millisecond), expired.Sub(cut).Round(time.Millisecond), cut.Sub(last).Round(time.Millisecond))
	if !fenced.Before(expired) {
		t.Errorf("holder fenced at %v, after the hub saw the expiry at %v", fenced, expired)
	}
	if expired.Before(last.Add(l.TTL())) {
		t.Errorf("lease expired %v after the last renewal was sent, before its TTL %v", expired.Sub(last), l.TTL())
	}
	if !closedWithin(l.Done(), 5*time.Second) {
		t.Fatal("Done still open after the lease expired")
	}
	net.Heal()
	if !errors.Is(l.Err(), ErrLeaseLost) {
		t.Errorf("Err = %v, want ErrLeaseLost", l.Err())
	}
}

// TestHoldPrimaryAfterAgentClosed refuses a lease once the agent session
// is over.
func TestHoldPrimaryAfterAgentClosed(t *testing.T) {
	st := newStore(t)
	promoteFirst(t, st, campaign(t, st, "hub"), svc1, 0)
	a := startAgent(t, st, "agent-eu")
	l, err := a.HoldPrimary(t.Context(), svc1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(l.Done(), time.Second) {
		t.Error("primary lease still held after the agent closed")
	}
	if _, err := a.HoldPrimary(t.Context(), svc1, 0, 1); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("HoldPrimary after Close: %v, want ErrSessionEnded", err)
	}
}

// TestHoldPrimaryStoreClosed: closing the agent's Store ends its leases at
// once (nothing renews them any more) while etcd keeps them until the TTL.
func TestHoldPrimaryStoreClosed(t *testing.T) {
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
	l, err := a.HoldPrimary(t.Context(), svc1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := agentStore.Close(); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(l.Done(), time.Second) || !closedWithin(a.Done(), time.Second) {
		t.Fatal("lease or session still open after the Store closed")
	}
	if !errors.Is(l.Err(), ErrLeaseLost) || !errors.Is(a.Err(), ErrSessionEnded) {
		t.Errorf("Err = %v, %v", l.Err(), a.Err())
	}
}

// TestHoldPrimaryBriefPartition: a partition shorter than the TTL costs no
// lease; renewals resume once the path heals.
func TestHoldPrimaryBriefPartition(t *testing.T) {
	t.Parallel() // waits for TTLs and servers; runs beside the others
	hub := newStore(t)
	promoteFirst(t, hub, campaign(t, hub, "hub"), svc1, 0)
	net := startProxy(t, etcdURL)
	agentStore := newStore(t, func(c *Config) { c.Endpoints = []string{net.URL()} })
	l, err := startAgent(t, agentStore, "agent-eu").HoldPrimary(t.Context(), svc1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	net.Partition()
	poll(t, 5*time.Second, "renewals to stall", func() error {
		if time.Since(l.LastRenewed()) < 400*time.Millisecond {
			return errors.New("still renewing")
		}
		return nil
	})
	healed := time.Now()
	net.Heal()
	poll(t, 5*time.Second, "renewals to resume", func() error {
		if l.LastRenewed().Before(healed) {
			return errors.New("no renewal since the heal")
		}
		return nil
	})
	t.Logf("first renewal sent %v after the heal", l.LastRenewed().Sub(healed).Round(time.Millisecond))
	select {
	case <-l.Done():
		t.Fatalf("lease lost over a brief partition: %v", l.Err())
	default:
	}
}

// TestHoldPrimaryTakeOver: an agent restarted within the TTL takes over
// the primary lease its previous run held, without the key changing, so the
// hub never sees it expire; another agent or another epoch cannot.
func TestHoldPrimaryTakeOver(t *testing.T) {
	st := newStore(t)
	promoteFirst(t, st, campaign(t, st, "hub"), svc1, 1)
	a := startAgent(t, st, "agent-eu")
	l, err := a.HoldPrimary(t.Context(), svc1, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	before, err := st.Snapshot(t.Context(), svc1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startAgent(t, st, "agent-us").HoldPrimary(t.Context(), svc1, 1, 1); !errors.Is(err, ErrConflict) {
		t.Fatalf("another agent: %v, want ErrConflict", err)
	}
	a.Abandon()
	if !closedWithin(l.Done(), time.Second) {
		t.Fatal("the abandoned lease's Done is still open")
	}
	b, err := st.StartAgent(t.Context(), "agent-eu", "cluster-agent-eu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	l2, err := b.HoldPrimary(t.Context(), svc1, 1, 1)
	if err != nil {
		t.Fatalf("take over: %v", err)
	}
	if l2.Lease() != l.Lease() || time.Until(l2.WritableUntil()) <= 0 {
		t.Errorf("taken-over lease %x writable until %v, want lease %x writable now", l2.Lease(), l2.WritableUntil(), l.Lease())
	}
	time.Sleep(2 * l2.TTL())
	after, err := st.Snapshot(t.Context(), svc1)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lease == nil || after.Lease.Revision != before.Lease.Revision {
		t.Fatalf("lease after two TTLs: %+v, want the key of revision %d kept alive", after.Lease, before.Lease.Revision)
	}
	select {
	case <-l2.Done():
		t.Fatalf("taken-over lease ended: %v", l2.Err())
	default:
	}
	if err := l2.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if snap, err := st.Snapshot(t.Context(), svc1); err != nil || snap.Lease != nil {
		t.Fatalf("after Release: %+v, %v; want no lease", snap.Lease, err)
	}
}
