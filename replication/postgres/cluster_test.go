package postgres

import (
	"errors"

	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"slices"
	"testing"
	"time"
)

func TestInitStartStatus(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	p := c.nodes[0]
	// A second Init and Start change nothing on a running primary.
	if err := p.Init(ctx); err != nil {
		t.Fatalf("Init again: %v", err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatalf("Start again: %v", err)
	}
	up, err := p.Running(ctx)
	if err != nil || !up {
		t.Fatalf("Running = %v, %v; want true", up, err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Role != RolePrimary || !st.Writable || st.Fenced || st.Timeline != 1 || st.CurrentLSN == InvalidLSN {
		t.Errorf("primary status = %+v; want a writable, unfenced primary on timeline 1 with a position", st)
	}
	if st.Position() != st.CurrentLSN {
		t.Errorf("Position() = %v, want CurrentLSN %v", st.Position(), st.CurrentLSN)
	}
	// The server listens on its own address and port, and the settings of
	// Init are in effect.
	var listen, port, level, hints, checksums string
	err = p.withConn(ctx, 0, func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT current_setting('listen_addresses'), current_setting('port'),
			current_setting('wal_level'), current_setting('wal_log_hints'), current_setting('data_checksums')`).
			Scan(&listen, &port, &level, &hints, &checksums)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{listen, port, level, hints, checksums}; !slices.Equal(got, []string{"127.77.0.1", "5432", "replica", "on", "on"}) {
		t.Errorf("listen, port, wal_level, wal_log_hints, data_checksums = %q", got)
	}
}

func TestSeedStandbys(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	p := c.nodes[0]
	if !slices.Equal(shared.paths, []FollowPath{PathBasebackup, PathBasebackup}) {
		t.Errorf("Seed paths of empty replicas = %v, want basebackup twice", shared.paths)
	}
	for _, s := range c.nodes[1:] {
		waitStreaming(t, s, p)
	}
	// Seeding a replica that already follows the primary copies nothing.
	res, err := c.nodes[1].Seed(ctx, p.Endpoint(), SlotName("db-1"))
	if err != nil || res.Path != PathNone || res.Lost != nil {
		t.Fatalf("Seed again = %+v, %v; want none", res, err)
	}
	waitStreaming(t, c.nodes[1], p)
	eventually(t, 10*time.Second, "the primary sees both standbys on their slots", func() error {
		st, err := p.Status(ctx)
		if err != nil {
			return err
		}
		var names []string
		for _, s := range st.Standbys {
			if s.State == "streaming" && s.SyncState == "async" {
				names = append(names, s.Name)
			}
		}
		if !slices.Equal(names, []string{"db-1", "db-2"}) {
			return fmt.Errorf("streaming async standbys %v", names)
		}
		return nil
	})
	var slots []string
	err = p.withConn(ctx, 0, func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT array_agg(slot_name::text ORDER BY slot_name) FROM pg_replication_slots
			WHERE active AND slot_type = 'physical'`).Scan(&slots)
	})
	if err != nil || !slices.Equal(slots, []string{"db_1", "db_2"}) {
		t.Errorf("active slots = %v, %v; want db_1 and db_2", slots, err)
	}
}

// waitStreaming waits until standby s streams from primary p.
func waitStreaming(t *testing.T, s, p *Instance) {
	t.Helper()
	eventually(t, 20*time.Second, s.Config().Name+" streams from "+p.Config().Name, func() error {
		st, err := s.Status(t.Context())
		if err != nil {
			return err
		}
		if st.Role != RoleStandby || st.Writable || !st.Streaming || st.Upstream != p.Endpoint() {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
}

func TestReplicationCatchUp(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	p := c.nodes[0]
	emptyTable(t, p)
	before, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := execSQL(ctx, p, "INSERT INTO t SELECT g, 'catch-up' FROM generate_series(1000, 1999) g"); err != nil {
		t.Fatal(err)
	}
	after, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.CurrentLSN <= before.CurrentLSN {
		t.Fatalf("primary position %v did not advance past %v", after.CurrentLSN, before.CurrentLSN)
	}
	want, err := ids(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.nodes[1:] {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := s.WaitReplay(wctx, after.CurrentLSN)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ReplayLSN < after.CurrentLSN || st.Position() < after.CurrentLSN || st.Timeline != 1 {
			t.Errorf("%s status %+v: want replayed to %v on timeline 1", s.Config().Name, st, after.CurrentLSN)
		}
		// It replayed commits it received from a live primary, so its lag is
		// known, and small: zero when it replayed all it received.
		if !st.ReplayLagKnown || st.ReplayLag > time.Minute {
			t.Errorf("%s replay lag %v (known %v), want a known lag under a minute", s.Config().Name, st.ReplayLag, st.ReplayLagKnown)
		}
		got, err := ids(ctx, s)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s has %d rows (%v), want the primary's %d", s.Config().Name, len(got), err, len(want))
		}
	}
	eventually(t, 20*time.Second, "the primary sees no lag", func() error {
		st, err := p.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st.Standbys {
			if s.ReplayLSN < after.CurrentLSN {
				return fmt.Errorf("%s replayed %v, lag %d bytes", s.Name, s.ReplayLSN, s.LagBytes)
			}
		}
		return nil
	})
	// WaitReplay refuses a primary and gives up with its context.
	if err := p.WaitReplay(ctx, after.CurrentLSN); !errors.Is(err, ErrNotStandby) {
		t.Errorf("WaitReplay on the primary = %v, want ErrNotStandby", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := c.nodes[1].WaitReplay(wctx, after.CurrentLSN+1<<40); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReplay for a position never written = %v, want a deadline error", err)
	}
}
