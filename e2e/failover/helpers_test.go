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
	mu     sync.Mutex
	acked  []int
	// ackedAt[i] is when acked[i] was acknowledged.
	ackedAt []time.Time
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

// run writes until ctx ends, pausing between rows.
func (w *writer) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.write(ctx)
		w.mu.Lock()
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
		w.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
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
