package postgres

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/jackc/pgx/v5"
)

// pair starts a primary db-0 on ip0 and a standby db-1 on ip1 seeded from
// it, then sets synchronous replication as sync; replication is trusted.
func pair(t *testing.T, ip0, ip1 string, sync SyncSpec) (*Instance, *Instance) {
	t.Helper()
	requirePostgres(t)
	ctx := logr.NewContext(t.Context(), testr.New(t))
	base := testDir(t)
	a := newNode(t, testConfig(base, "db-0", ip0, ""))
	b := newNode(t, testConfig(base, "db-1", ip1, ""))
	if err := startPrimary(ctx, a, asyncSpec("db-1")); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Seed(ctx, a.Endpoint(), SlotName("db-1")); err != nil || res.Path != PathBasebackup {
		t.Fatalf("Seed = %+v, %v; want basebackup", res, err)
	}
	waitStreaming(t, b, a)
	if err := a.ConfigurePrimary(ctx, sync); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// insertRange inserts rows lo..hi, each its own acknowledged commit.
func insertRange(t *testing.T, in *Instance, lo, hi int) []int {
	t.Helper()
	var out []int
	err := in.withConn(t.Context(), 30*time.Second, func(ctx context.Context, c *pgx.Conn) error {
		for id := lo; id <= hi; id++ {
			if _, err := c.Exec(ctx, "INSERT INTO t VALUES ($1, 'committed')", id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPlannedSwitchover(t *testing.T) {
	ctx := logr.NewContext(t.Context(), testr.New(t))
	a, b := pair(t, "127.77.0.11", "127.77.0.12",
		SyncSpec{Standbys: []string{"db-1"}, Synchronous: []string{"db-1"}, Quorum: 1})
	rows := insertRange(t, a, 1, 50)

	token, err := a.Demote(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := a.Demote(ctx); err != nil || again != token {
		t.Errorf("Demote again = %v, %v; want the same token %v", again, err, token)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.WaitReplay(wctx, token); err != nil {
		t.Fatal(err)
	}
	promo, err := b.Promote(ctx, SyncSpec{Standbys: []string{"db-0"}, Synchronous: []string{"db-0"}, Quorum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if promo.Timeline != 2 || promo.Switch < token {
		t.Errorf("promotion = %+v; want timeline 2 switching at or after the token %v", promo, token)
	}
	if again, err := b.Promote(ctx, SyncSpec{Standbys: []string{"db-0"}}); err != nil || again != promo {
		t.Errorf("Promote again = %+v, %v; want %+v", again, err, promo)
	}

	res, err := a.Follow(ctx, b.Endpoint(), SlotName("db-0"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != PathNone || res.Lost != nil {
		t.Fatalf("Follow of the demoted primary = %+v, want path none and nothing lost", res)
	}
	waitStreaming(t, a, b)
	// The new primary commits synchronously to the old one.
	rows = append(rows, insertRange(t, b, 51, 60)...)
	waitRows(t, a, b, rows)
	got, err := ids(ctx, b)
	if err != nil || !slices.Equal(got, rows) {
		t.Fatalf("new primary rows = %v, %v; want %v", got, err, rows)
	}
	st, err := a.Status(ctx)
	if err != nil || st.Timeline != 2 || st.Fenced {
		t.Errorf("old primary status = %+v, %v; want an unfenced standby on timeline 2", st, err)
	}
	// Following again only repoints.
	if res, err := a.Follow(ctx, b.Endpoint(), SlotName("db-0")); err != nil || res.Path != PathNone {
		t.Errorf("Follow again = %+v, %v; want none", res, err)
	}
}

func TestUnplannedFailover(t *testing.T) {
	ctx := logr.NewContext(t.Context(), testr.New(t))
	a, b := pair(t, "127.77.0.21", "127.77.0.22", asyncSpec("db-1"))
	rows := insertRange(t, a, 1, 20)
	waitRows(t, b, a, rows)

	// The primary dies; the standby is promoted and takes writes.
	if err := a.Stop(ctx, StopImmediate); err != nil {
		t.Fatal(err)
	}
	promo, err := b.Promote(ctx, asyncSpec("db-0"))
	if err != nil || promo.Timeline != 2 {
		t.Fatalf("Promote = %+v, %v; want timeline 2", promo, err)
	}
	rows = append(rows, insertRange(t, b, 21, 30)...)

	// The old primary returns fenced (Fence writes the settings of a stopped
	// server); a client overriding both defaults still writes on it, so it
	// diverges.
	if _, err := a.Fence(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Status(ctx); err != nil || st.Role != RolePrimary || !st.Fenced || st.Writable {
		t.Fatalf("restarted old primary = %+v, %v; want a fenced primary", st, err)
	}
	if err := execSQL(ctx, a, "INSERT INTO t VALUES (-1, 'diverged')"); sqlState(err) != "25006" {
		t.Fatalf("plain insert on the fenced old primary = %v, want 25006", err)
	}
	if err := execSQL(ctx, a, "SET default_transaction_read_only = off", "SET synchronous_commit = local",
		"INSERT INTO t VALUES (-1, 'diverged')"); err != nil {
		t.Fatal(err)
	}

	res, err := a.Follow(ctx, b.Endpoint(), SlotName("db-0"))
	if err != nil || res.Path != PathRewind {
		t.Fatalf("Follow of the diverged old primary = %+v, %v; want rewind", res, err)
	}
	checkLost(t, res.Lost, 1, 1)
	waitStreaming(t, a, b)
	rows = append(rows, insertRange(t, b, 31, 35)...)
	waitRows(t, a, b, rows)

	// A crashed primary that diverged: cut from its standby a, b writes a
	// row nobody else has and dies; a takes over. Follow recovers b and
	// rewinds it.
	if err := a.Stop(ctx, StopFast); err != nil {
		t.Fatal(err)
	}
	if err := execSQL(ctx, b, "INSERT INTO t VALUES (-2, 'diverged')"); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(ctx, StopImmediate); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if promo, err := a.Promote(ctx, asyncSpec("db-1")); err != nil || promo.Timeline != 3 {
		t.Fatalf("Promote = %+v, %v; want timeline 3", promo, err)
	}
	rows = append(rows, insertRange(t, a, 36, 40)...)
	res, err = b.Follow(ctx, a.Endpoint(), SlotName("db-1"))
	if err != nil || res.Path != PathRewind {
		t.Fatalf("Follow of the crashed, diverged primary = %+v, %v; want rewind", res, err)
	}
	checkLost(t, res.Lost, 2, 1)
	waitStreaming(t, b, a)
	waitRows(t, b, a, rows)

	// Rewinding is impossible once the log it needs is gone: Follow copies
	// the primary afresh instead. a dies, b takes over, a diverges.
	if err := a.Stop(ctx, StopImmediate); err != nil {
		t.Fatal(err)
	}
	if promo, err := b.Promote(ctx, asyncSpec("db-0")); err != nil || promo.Timeline != 4 {
		t.Fatalf("Promote = %+v, %v; want timeline 4", promo, err)
	}
	rows = append(rows, insertRange(t, b, 41, 45)...)
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := execSQL(ctx, a, "INSERT INTO t VALUES (-3, 'diverged')"); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx, StopFast); err != nil {
		t.Fatal(err)
	}
	removeSegments(t, a.Config().DataDir)
	res, err = a.Follow(ctx, b.Endpoint(), SlotName("db-0"))
	if err != nil || res.Path != PathBasebackup {
		t.Fatalf("Follow without the log to rewind = %+v, %v; want basebackup", res, err)
	}
	if res.Lost != nil {
		t.Errorf("Follow without the log measured %+v, want nothing measured", *res.Lost)
	}
	waitStreaming(t, a, b)
	waitRows(t, a, b, rows)
}

// removeSegments deletes the log segments of a stopped server's data
// directory, keeping timeline history files.
func removeSegments(t *testing.T, dataDir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dataDir, "pg_wal"))
	if err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, e := range entries {
		if _, _, err := parseWALFileName(e.Name()); err == nil {
			if err := os.Remove(filepath.Join(dataDir, "pg_wal", e.Name())); err != nil {
				t.Fatal(err)
			}
			removed++
		}
	}
	if removed == 0 {
		t.Fatal("no log segment to remove")
	}
}

// checkLost checks a measurement of a diverged log on timeline tli that
// committed at least commits transactions (the server may commit its own
// besides the test's, such as autovacuum's).
func checkLost(t *testing.T, lost *LostLog, tli uint32, commits uint64) {
	t.Helper()
	switch {
	case lost == nil:
		t.Errorf("diverged log not measured")
	case lost.Timeline != tli || lost.Transactions < commits || lost.Bytes == 0 || lost.End != lost.Fork+LSN(lost.Bytes):
		t.Errorf("lost log = %+v; want timeline %d, at least %d transactions, bytes from the fork to the end", *lost, tli, commits)
	}
}

// TestLostLogMeasured loses the last transactions of an asynchronous
// primary: its standby is stopped while the primary commits n more, then
// the primary dies and the standby is promoted. Following the new
// primary, the old one is rewound, and what it lost is measured first:
// exactly those n commits, past the new primary's fork.
func TestLostLogMeasured(t *testing.T) {
	ctx := logr.NewContext(t.Context(), testr.New(t))
	a, b := pair(t, "127.77.0.31", "127.77.0.32", asyncSpec("db-1"))
	rows := insertRange(t, a, 1, 10)
	waitRows(t, b, a, rows)
	if err := b.Stop(ctx, StopFast); err != nil {
		t.Fatal(err)
	}
	const n = 7
	insertRange(t, a, 11, 10+n)
	if err := a.Stop(ctx, StopImmediate); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	promo, err := b.Promote(ctx, asyncSpec("db-0"))
	if err != nil || promo.Timeline != 2 {
		t.Fatalf("Promote = %+v, %v; want timeline 2", promo, err)
	}
	rows = append(rows, insertRange(t, b, 100, 104)...)

	res, err := a.Follow(ctx, b.Endpoint(), SlotName("db-0"))
	if err != nil || res.Path != PathRewind || res.Lost == nil {
		t.Fatalf("Follow of the old primary = %+v, %v; want a rewind with the lost log measured", res, err)
	}
	lost := *res.Lost
	t.Logf("lost log: %+v", lost)
	if lost.Transactions != n || lost.Timeline != 1 || lost.Fork != promo.Switch || lost.Bytes == 0 ||
		lost.End != lost.Fork+LSN(lost.Bytes) {
		t.Errorf("lost log = %+v; want %d transactions on timeline 1 from the fork %s", lost, n, promo.Switch)
	}
	waitStreaming(t, a, b)
	waitRows(t, a, b, rows)
}
