package postgres

import (
	"testing"
	"time"
)

func TestFence(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	p, s1, s2 := c.nodes[0], c.nodes[1], c.nodes[2]
	emptyTable(t, p)
	client := connect(t, p)
	if _, err := client.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Exec(ctx, "INSERT INTO t VALUES (3000, 'open transaction')"); err != nil {
		t.Fatal(err)
	}

	n, err := p.Fence(ctx)
	t.Cleanup(func() { restoreShared(t, c) })
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Errorf("Fence terminated %d sessions, want the open one at least", n)
	}
	// The open session is cut, and its transaction with it.
	if _, err := client.Exec(ctx, "COMMIT"); err == nil {
		t.Fatal("COMMIT in a session open across Fence succeeded")
	}
	// New sessions cannot write.
	if err := execSQL(ctx, p, "INSERT INTO t VALUES (3001, 'after fence')"); sqlState(err) != "25006" {
		t.Fatalf("insert on a fenced primary = %v, want read_only_sql_transaction (25006)", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Role != RolePrimary || st.Writable || !st.Fenced || st.SyncStandbyNames != `"fedstate_fenced"` {
		t.Errorf("fenced status = %+v", st)
	}
	// Fencing again is harmless. (It may count a session of this test that
	// is still exiting, so the count is not checked.)
	if _, err := p.Fence(ctx); err != nil {
		t.Errorf("Fence again: %v", err)
	}

	// A client that overrides the read-only default commits locally, but is
	// not acknowledged; its write still streams to the standbys.
	done := make(chan error, 1)
	go func() {
		done <- execSQL(ctx, p, "SET default_transaction_read_only = off", "INSERT INTO t VALUES (3002, 'slipped through')")
	}()
	waitSyncRep(t, p, done)
	// Replication went on under the fence: the standbys have the row that
	// slipped through, and not the one of the transaction Fence cut.
	for _, s := range []*Instance{s1, s2} {
		waitRows(t, s, p, []int{3002})
	}

	// Unfence accepts writes again, and acknowledges the waiting commit.
	if err := p.Unfence(ctx, asyncSpec("db-1", "db-2")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the waiting commit after Unfence: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting commit is not acknowledged 10s after Unfence")
	}
	if err := execSQL(ctx, p, "INSERT INTO t VALUES (3003, 'unfenced')"); err != nil {
		t.Fatalf("insert after Unfence: %v", err)
	}
	if st, err := p.Status(ctx); err != nil || !st.Writable || st.Fenced || st.SyncStandbyNames != "" {
		t.Errorf("unfenced status = %+v, %v", st, err)
	}
}
