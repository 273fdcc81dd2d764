package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The integration tests run real PostgreSQL 15 servers, each on its own
// loopback address and port 5432, as the postgres OS user when run as root.

// shared is the cluster most tests share: primary db-0 and standbys db-1 and
// db-2 seeded from it, made on first use and stopped after all tests.
var shared struct {
	once  sync.Once
	c     *cluster
	err   error
	base  string
	paths []FollowPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.stop()
	}
	if shared.base != "" {
		_ = os.RemoveAll(shared.base)
	}
	os.Exit(code)
}

// cluster is a set of servers of one test.
type cluster struct {
	nodes []*Instance
}

// stop stops every server at once; the data is thrown away.
func (c *cluster) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.nodes {
		_ = n.Stop(ctx, StopImmediate)
	}
}

// requirePostgres fails the test when the PostgreSQL 15 binaries are missing.
func requirePostgres(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(DefaultConfig().BinDir, "pg_rewind")); err != nil {
		t.Fatalf("the PostgreSQL 15 server is needed for these tests: apt-get install postgresql-15 (%v)", err)
	}
}

// testDir is a fresh directory the postgres OS user can traverse.
func testDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testConfig is the configuration of replica name on ip under base.
func testConfig(base, name, ip, password string) Config {
	cfg := DefaultConfig()
	cfg.Name = name
	cfg.DataDir = filepath.Join(base, name, "data")
	cfg.SocketDir = filepath.Join(base, name, "run")
	cfg.Listen = netip.MustParseAddr(ip)
	cfg.ReplicationPassword = password
	cfg.NoSync = true
	cfg.WALKeepSize = 64
	cfg.Settings = map[string]string{
		// Small servers; losing the page cache is not among the faults tested.
		"shared_buffers": "16MB", "max_connections": "30", "fsync": "off",
		// Standbys reconnect within a fifth of a second after their primary
		// returns, not five seconds.
		"wal_retrieve_retry_interval": "200ms",
	}
	cfg.StartTimeout = time.Minute
	cfg.CopyTimeout = time.Minute
	cfg.PollInterval = 20 * time.Millisecond
	return cfg
}

// newNode makes an Instance and stops its server when the test ends.
func newNode(t testing.TB, cfg Config) *Instance {
	t.Helper()
	in, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { (&cluster{nodes: []*Instance{in}}).stop() })
	return in
}

// startPrimary initialises and starts a primary with sync.
func startPrimary(ctx context.Context, in *Instance, sync SyncSpec) error {
	if err := in.Init(ctx); err != nil {
		return err
	}
	if err := in.Start(ctx); err != nil {
		return err
	}
	if err := in.ConfigurePrimary(ctx, sync); err != nil {
		return err
	}
	return execSQL(ctx, in, "CREATE TABLE t (id int PRIMARY KEY, note text)")
}

// sharedCluster returns the shared cluster, making it on first use.
func sharedCluster(t *testing.T) *cluster {
	t.Helper()
	requirePostgres(t)
	shared.once.Do(func() {
		shared.base, shared.err = os.MkdirTemp("", "pgdriver-")
		if shared.err == nil {
			shared.err = os.Chmod(shared.base, 0o755)
		}
		if shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// A password with a space, a quote and a backslash tests the
		// quoting of connection strings, SQL and postgresql.auto.conf.
		const password = `se cr'et\x`
		c := &cluster{}
		for i, ip := range []string{"127.77.0.1", "127.77.0.2", "127.77.0.3"} {
			in, err := New(testConfig(shared.base, fmt.Sprintf("db-%d", i), ip, password))
			if err != nil {
				shared.err = err
				return
			}
			c.nodes = append(c.nodes, in)
		}
		shared.c = c
		if shared.err = startPrimary(ctx, c.nodes[0], asyncSpec("db-1", "db-2")); shared.err != nil {
			return
		}
		for _, n := range c.nodes[1:] {
			res, err := n.Seed(ctx, c.nodes[0].Endpoint(), SlotName(n.Config().Name))
			if err != nil {
				shared.err = err
				return
			}
			shared.paths = append(shared.paths, res.Path)
		}
	})
	if shared.err != nil {
		t.Fatalf("shared cluster: %v", shared.err)
	}
	return shared.c
}

// asyncSpec keeps slots for standbys, with asynchronous replication.
func asyncSpec(standbys ...string) SyncSpec { return SyncSpec{Standbys: standbys} }

// connect opens a client session to in, closed when the test ends.
func connect(t testing.TB, in *Instance) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, in.localConninfo())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// execSQL runs SQL statements on in in one session.
func execSQL(ctx context.Context, in *Instance, stmts ...string) error {
	return in.withConn(ctx, 30*time.Second, func(ctx context.Context, c *pgx.Conn) error {
		for _, s := range stmts {
			if _, err := c.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}

// emptyTable empties table t of the shared cluster's primary p, so that a
// test can run again (go test -count) on the same cluster.
func emptyTable(t *testing.T, p *Instance) {
	t.Helper()
	if err := execSQL(t.Context(), p, "TRUNCATE t"); err != nil {
		t.Fatal(err)
	}
}

// ids returns the ids in table t of in, in order.
func ids(ctx context.Context, in *Instance) ([]int, error) {
	var out []int
	err := in.withConn(ctx, 10*time.Second, func(ctx context.Context, c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT id FROM t ORDER BY id")
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	})
	return out, err
}

// waitRows waits until standby s replayed primary p's current position and
// checks that it holds exactly the rows want.
func waitRows(t *testing.T, s, p *Instance, want []int) {
	t.Helper()
	ctx := t.Context()
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.WaitReplay(wctx, st.CurrentLSN); err != nil {
		t.Fatal(err)
	}
	got, err := ids(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s rows = %v, want %v", s.Config().Name, got, want)
	}
}

// sqlState is err's SQLSTATE, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// eventually polls cond until it returns nil or the timeout passes, then
// fails the test with cond's last error.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
