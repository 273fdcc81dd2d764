package failover

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

const namespace = "default"

// waitFor polls check every 200 ms until it returns nil, failing the test
// with its last error after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// postgresService is localfed.PostgresService in the tests' namespace.
func postgresService(name string, replicas, syncReplicas int32, primaryRegion string) *v1alpha1.FederatedStatefulSet {
	return localfed.PostgresService(namespace, name, replicas, syncReplicas, primaryRegion)
}

// getService reads the service's current state from the hub.
func getService(ctx context.Context, name string) (*v1alpha1.FederatedStatefulSet, error) {
	return fed.Service(ctx, namespace, name)
}

// lookupPrimary asks the federation's first DNS server for the address of
// the service's primary.
func lookupPrimary(name string) (netip.Addr, error) {
	return localfed.LookupPrimary(dnsAddr, namespace, name)
}

// pgPort is the port of the replicas' servers at their pod addresses.
const pgPort = localfed.PGPort

// connect opens a session to the server at addr as the superuser.
func connect(ctx context.Context, addr netip.Addr) (*pgx.Conn, error) {
	return localfed.Connect(ctx, addr)
}

// connectTo opens a session to the server at host:port as the superuser.
func connectTo(ctx context.Context, hostPort string) (*pgx.Conn, error) {
	return localfed.ConnectTo(ctx, hostPort)
}

// writer is a client writing numbered rows through the DNS name of the
// primary, one statement per row, recording which were acknowledged and
// when.
type writer struct {
	service string
	// locate, when set, finds the primary's host:port instead of the DNS
	// name of service.
	locate func(context.Context) (string, error)
	// fast writes without pausing, over one session kept until a write
	// fails: as much as one client can push.
	fast  bool
	mu    sync.Mutex
	acked []int
	// ackedAt[i] is when acked[i] was acknowledged.
	ackedAt []time.Time
	// ackedOn[i] is the host:port of the server that acknowledged acked[i].
	ackedOn []string
	next    int
	errs    int
	// firstErr and recovered time the outage clients saw.
	firstErr, recovered time.Time
	// lastErr is the error of the last write that failed.
	lastErr error
}

// write tries to insert the next row once: resolve, connect, insert.
func (w *writer) write(ctx context.Context) error {
	hostPort, err := w.primary(ctx)
	if err != nil {
		return err
	}
	conn, err := connectTo(ctx, hostPort)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return w.insert(ctx, conn, hostPort)
}

// insert inserts the next row over conn, a session to hostPort, and
// records its acknowledgement.
func (w *writer) insert(ctx context.Context, conn *pgx.Conn, hostPort string) error {
	w.mu.Lock()
	id := w.next
	w.next++
	w.mu.Unlock()
	ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := conn.Exec(ictx, "INSERT INTO rows (id) VALUES ($1)", id); err != nil {
		return err
	}
	w.mu.Lock()
	w.acked = append(w.acked, id)
	w.ackedAt = append(w.ackedAt, time.Now())
	w.ackedOn = append(w.ackedOn, hostPort)
	w.mu.Unlock()
	return nil
}

// primary finds the host:port of the primary: with locate if set, else
// through the DNS name of the service.
func (w *writer) primary(ctx context.Context) (string, error) {
	if w.locate != nil {
		return w.locate(ctx)
	}
	addr, err := lookupPrimary(w.service)
	if err != nil {
		return "", err
	}
	return netip.AddrPortFrom(addr, pgPort).String(), nil
}

// run writes until ctx ends, pausing 50 ms between rows unless fast.
func (w *writer) run(ctx context.Context) {
	if w.fast {
		w.runFast(ctx)
		return
	}
	for ctx.Err() == nil {
		w.record(w.write(ctx))
		time.Sleep(50 * time.Millisecond)
	}
}

// runFast writes until ctx ends over one session, resolving the primary
// and connecting again only after a write failed, then 10 ms later.
func (w *writer) runFast(ctx context.Context) {
	var conn *pgx.Conn
	var hostPort string
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	for ctx.Err() == nil {
		var err error
		if conn == nil {
			if hostPort, err = w.primary(ctx); err == nil {
				conn, err = connectTo(ctx, hostPort)
			}
		}
		if err == nil {
			if err = w.insert(ctx, conn, hostPort); err != nil {
				_ = conn.Close(context.Background())
				conn = nil
			}
		}
		w.record(err)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// record counts the outcome of one attempt to write.
func (w *writer) record(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.errs++
		w.lastErr = err
		if w.firstErr.IsZero() || !w.recovered.IsZero() {
			w.firstErr, w.recovered = time.Now(), time.Time{}
		}
	case !w.firstErr.IsZero() && w.recovered.IsZero():
		w.recovered = time.Now()
	}
}

// lastError returns the error of the last write that failed, if any.
func (w *writer) lastError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// ackedRows returns the rows acknowledged so far.
func (w *writer) ackedRows() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

// ackGap returns when the first row acknowledged at or after t was
// acknowledged, and when the row before it was: the outage a client saw
// around t. ok is false while no row was acknowledged at or after t, or
// none before.
func (w *writer) ackGap(t time.Time) (before, after time.Time, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, at := range w.ackedAt {
		if !at.Before(t) {
			if i == 0 {
				return time.Time{}, time.Time{}, false
			}
			return w.ackedAt[i-1], at, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// ackOn returns when hostPort first acknowledged a row at or after t,
// and when the row before that one was acknowledged, by any server: the
// write gap a client saw when the primary moved to hostPort. ok is false
// while hostPort acknowledged nothing since t.
func (w *writer) ackOn(hostPort string, t time.Time) (before, after time.Time, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, at := range w.ackedAt {
		if i > 0 && !at.Before(t) && w.ackedOn[i] == hostPort {
			return w.ackedAt[i-1], at, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// rate is the number of rows acknowledged in the second before t.
func (w *writer) rate(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, at := range w.ackedAt {
		if at.Before(t) && !at.Before(t.Add(-time.Second)) {
			n++
		}
	}
	return n
}

// rowsAt reads every row id the server at addr holds.
func rowsAt(ctx context.Context, addr netip.Addr) (map[int]bool, error) {
	return rowsAtHost(ctx, netip.AddrPortFrom(addr, pgPort).String())
}

// rowsAtHost reads every row id the server at host:port holds.
func rowsAtHost(ctx context.Context, hostPort string) (map[int]bool, error) {
	conn, err := connectTo(ctx, hostPort)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT id FROM rows")
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, id := range ids {
		out[int(id)] = true
	}
	return out, nil
}

// streamingStandbys counts the standbys streaming from the server at
// host:port (pg_stat_replication in state streaming).
func streamingStandbys(ctx context.Context, hostPort string) (int, error) {
	conn, err := connectTo(ctx, hostPort)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var n int
	err = conn.QueryRow(qctx, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").Scan(&n)
	return n, err
}

// isWritable reports whether the server at addr accepts writes.
func isWritable(ctx context.Context, addr netip.Addr) (bool, error) {
	return localfed.IsWritable(ctx, addr)
}

// replicaAddrs returns the pod addresses of the service's replicas.
func replicaAddrs(ctx context.Context, name string) []netip.Addr {
	return fed.ReplicaAddrs(ctx, namespace, name)
}

// errNotYet is what a wait's check returns while the state is not there.
var errNotYet = errors.New("not yet")
