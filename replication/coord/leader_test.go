package coord

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLeaderCampaignResign: one leader at a time; a second candidate wins
// only once the first resigned, and Leader reports who leads.
func TestLeaderCampaignResign(t *testing.T) {
	st := newStore(t)
	if _, err := st.Leader(t.Context()); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("Leader before any campaign: %v, want ErrNoLeader", err)
	}
	a := campaign(t, st, "hub-a")
	info, err := st.Leader(t.Context())
	if err != nil || info.ID != "hub-a" || info.Guard != a.Guard() {
		t.Fatalf("Leader = %+v, %v; want hub-a with guard %+v", info, err, a.Guard())
	}

	won := make(chan *Leader, 1)
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, err := st.Campaign(ctx, "hub-b")
		if err != nil {
			errc <- err
			return
		}
		won <- l
	}()
	// hub-b's candidate key appears, but it must not lead while hub-a does.
	poll(t, 5*time.Second, "hub-b campaigning", func() error {
		resp, err := st.Client().Get(t.Context(), ElectionPrefix(st.Prefix()), countOnly()...)
		if err != nil {
			return err
		}
		if resp.Count != 2 {
			return errors.New("one candidate")
		}
		return nil
	})
	select {
	case <-won:
		t.Fatal("hub-b elected while hub-a leads")
	case err := <-errc:
		t.Fatal(err)
	default:
	}

	if err := a.Resign(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(a.Done(), 5*time.Second) {
		t.Error("Done of the resigned leader still open")
	}
	var b *Leader
	select {
	case b = <-won:
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("hub-b not elected after hub-a resigned")
	}
	defer b.Resign(context.Background())
	if info, err := st.Leader(t.Context()); err != nil || info.ID != "hub-b" || info.Guard != b.Guard() {
		t.Fatalf("Leader = %+v, %v; want hub-b", info, err)
	}
	if a.Guard() == b.Guard() {
		t.Fatal("two tenures with one guard")
	}
}

// TestLeaderSessionLost: a leader whose client dies loses the leadership
// after LeaderTTL and the next candidate wins; the old tenure's guard is
// fenced even though its holder never resigned.
func TestLeaderSessionLost(t *testing.T) {
	t.Parallel() // waits for TTLs and servers; runs beside the others
	hub := newStore(t)
	doomed, err := Connect(t.Context(), testConfig(t, etcdURL))
	if err != nil {
		t.Fatal(err)
	}
	old := campaign(t, doomed, "hub-a")
	guard := old.Guard()
	start := time.Now()
	if err := doomed.Close(); err != nil { // no resign: the lease must expire
		t.Fatal(err)
	}
	if !closedWithin(old.Done(), 5*time.Second) {
		t.Error("Done of the dead leader's session still open")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	next, err := hub.Campaign(ctx, "hub-b")
	if err != nil {
		t.Fatal(err)
	}
	defer next.Resign(context.Background())
	t.Logf("next leader elected %v after the old one's client closed", time.Since(start).Round(time.Millisecond))
	if err := hub.SaveState(t.Context(), svc1, guard, []byte("from the past")); !errors.Is(err, ErrFenced) {
		t.Fatalf("SaveState with the lost tenure: %v, want ErrFenced", err)
	}
	if err := hub.SaveState(t.Context(), svc1, next.Guard(), []byte("now")); err != nil {
		t.Fatalf("SaveState of the new leader: %v", err)
	}
}
