package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestSynchronousQuorum(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	p, s1, s2 := c.nodes[0], c.nodes[1], c.nodes[2]
	emptyTable(t, p)
	spec := SyncSpec{Standbys: []string{"db-1", "db-2"}, Synchronous: []string{"db-2", "db-1"}, Quorum: 1}
	if err := p.ConfigurePrimary(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { restoreShared(t, c) })
	eventually(t, 20*time.Second, "both standbys are quorum candidates", func() error {
		st, err := p.Status(ctx)
		if err != nil {
			return err
		}
		if st.SyncStandbyNames != `ANY 1 ("db-1","db-2")` || st.SyncCommit != "on" {
			return fmt.Errorf("synchronous_standby_names %q, synchronous_commit %q", st.SyncStandbyNames, st.SyncCommit)
		}
		var quorum []string
		for _, s := range st.Standbys {
			if s.SyncState == "quorum" {
				quorum = append(quorum, s.Name)
			}
		}
		if !slices.Equal(quorum, []string{"db-1", "db-2"}) {
			return fmt.Errorf("quorum standbys %v", quorum)
		}
		return nil
	})
	if err := execSQL(ctx, p, "INSERT INTO t VALUES (2000, 'both standbys up')"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Instance{s1, s2} {
		if err := s.Stop(ctx, StopFast); err != nil {
			t.Fatal(err)
		}
		if up, err := s.Running(ctx); err != nil || up {
			t.Fatalf("%s Running = %v, %v after Stop", s.Config().Name, up, err)
		}
		if _, err := s.Status(ctx); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("%s Status after Stop = %v, want ErrNotRunning", s.Config().Name, err)
		}
	}

	// With no standby to confirm it, a commit is not acknowledged.
	short, cancel := context.WithTimeout(ctx, time.Second)
	err := execSQL(short, p, "INSERT INTO t VALUES (2001, 'no standby')")
	cancel()
	if !pgconn.Timeout(err) {
		t.Fatalf("insert without standbys = %v, want it still waiting at its deadline", err)
	}

	// A commit waiting for the quorum completes once one standby returns.
	done := make(chan error, 1)
	go func() { done <- execSQL(ctx, p, "INSERT INTO t VALUES (2002, 'one standby back')") }()
	waitSyncRep(t, p, done)
	if err := s1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("insert after db-1 returned: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("insert still waiting 30s after db-1 returned")
	}
	// db-1 has every commit, the one canceled while waiting included: it was
	// durable on the primary, only its acknowledgement was missing.
	waitRows(t, s1, p, []int{2000, 2001, 2002})
}

// waitSyncRep waits until a backend of p waits for synchronous
// replication, failing if the statement in flight ends first.
func waitSyncRep(t *testing.T, p *Instance, done <-chan error) {
	t.Helper()
	eventually(t, 20*time.Second, "a commit waits for synchronous replication", func() error {
		select {
		case err := <-done:
			t.Fatalf("the insert ended (%v) instead of waiting", err)
		default:
		}
		var n int
		err := p.withConn(t.Context(), 0, func(ctx context.Context, c *pgx.Conn) error {
			return c.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'").Scan(&n)
		})
		if err == nil && n == 0 {
			err = fmt.Errorf("no backend waits on SyncRep")
		}
		return err
	})
}

// restoreShared brings the shared cluster back to asynchronous replication,
// unfenced, with both standbys streaming.
func restoreShared(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range c.nodes[1:] {
		if err := s.Start(ctx); err != nil {
			t.Error(err)
		}
	}
	if err := c.nodes[0].Unfence(ctx, asyncSpec("db-1", "db-2")); err != nil {
		t.Error(err)
	}
}
