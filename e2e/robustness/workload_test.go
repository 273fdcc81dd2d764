//go:build robustness

package robustness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fedstate/fedstate/e2e/localfed"
)

// history records a workload's operations for the checker.
type history struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
	// okTimes are the return times of successful operations, for the
	// unavailability figures.
	okTimes []time.Time
	failed  int
	unknown int
}

func (h *history) record(client int, in opInput, out opOutput, call, ret time.Time, err error, ambiguous bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	op := porcupine.Operation{ClientId: client, Input: in, Output: out,
		Call: call.Sub(h.start).Nanoseconds(), Return: ret.Sub(h.start).Nanoseconds()}
	switch {
	case err == nil:
		h.ops = append(h.ops, op)
		h.okTimes = append(h.okTimes, ret)
	case ambiguous && in.Add:
		// It may have taken effect at any time after its call, or never:
		// it returns at the end of time.
		op.Return = math.MaxInt64
		h.ops = append(h.ops, op)
		h.unknown++
	default:
		h.failed++
	}
}

// longestGap is the longest time without a successful operation between
// from and to.
func (h *history) longestGap(from, to time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	last, gap := from, time.Duration(0)
	for _, t := range h.okTimes {
		if t.Before(from) || t.After(to) {
			continue
		}
		gap = max(gap, t.Sub(last))
		last = t
	}
	return max(gap, to.Sub(last))
}

// session is one client's connection to the current primary, found by DNS.
type session struct {
	f       *localfed.Federation
	ns, svc string
	rng     *rand.Rand
	conn    *pgx.Conn
}

// get returns a connection to the primary, resolving it at a random DNS
// server when there is none.
func (s *session) get(ctx context.Context) (*pgx.Conn, error) {
	if s.conn != nil {
		return s.conn, nil
	}
	server := s.f.DNS[s.rng.IntN(len(s.f.DNS))]
	addr, err := localfed.LookupPrimary(server, s.ns, s.svc)
	if err != nil {
		return nil, notSent{err}
	}
	conn, err := localfed.Connect(ctx, addr)
	if err != nil {
		return nil, notSent{err}
	}
	s.conn = conn
	return conn, nil
}

// drop forgets the connection after an error.
func (s *session) drop() {
	if s.conn != nil {
		_ = s.conn.Close(context.Background())
		s.conn = nil
	}
}

// notSent wraps an error met before a statement was sent: no primary
// found, no connection.
type notSent struct{ error }

func (e notSent) Unwrap() error { return e.error }

// ambiguous reports whether a failed statement may still have committed:
// anything but an error met before sending it or one the server returned.
func ambiguous(err error) bool {
	var pgErr *pgconn.PgError
	var early notSent
	if errors.As(err, &pgErr) || errors.As(err, &early) {
		return false // the server refused it (read-only, canceled), or it never left
	}
	return !pgconn.SafeToRetry(err)
}

// setWorkload runs clients on the synchronous service: client i adds
// increasing values to key "<prefix>-<i>" and reads random keys.
func setWorkload(ctx context.Context, f *localfed.Federation, ns, svc, prefix string, clients int, seed uint64, h *history) {
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			s := &session{f: f, ns: ns, svc: svc, rng: rng}
			defer s.drop()
			next := 0
			for ctx.Err() == nil {
				opCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
				if rng.Float64() < 0.6 {
					next++
					in := opInput{Add: true, Key: fmt.Sprintf("%s-%d", prefix, c), Val: next}
					call := time.Now()
					err := addValue(opCtx, s, in)
					h.record(c, in, opOutput{}, call, time.Now(), err, err != nil && ambiguous(err))
				} else {
					in := opInput{Key: fmt.Sprintf("%s-%d", prefix, rng.IntN(clients))}
					call := time.Now()
					vals, err := readValues(opCtx, s, in.Key, c)
					h.record(c, in, opOutput{Vals: vals}, call, time.Now(), err, false)
				}
				cancel()
				time.Sleep(time.Duration(20+rng.IntN(40)) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
}

func addValue(ctx context.Context, s *session, in opInput) error {
	conn, err := s.get(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "INSERT INTO kv (k, v) VALUES ($1, $2)", in.Key, in.Val); err != nil {
		s.drop()
		return err
	}
	return nil
}

// readValues reads key's set in a transaction that also writes, so that
// it commits only on a primary that may still write.
func readValues(ctx context.Context, s *session, key string, client int) ([]int, error) {
	conn, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	vals, err := func() ([]int, error) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return nil, err
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		if _, err := tx.Exec(ctx, "INSERT INTO readers (client, n) VALUES ($1, 1) ON CONFLICT (client) DO UPDATE SET n = readers.n + 1", client); err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, "SELECT v FROM kv WHERE k = $1", key)
		if err != nil {
			return nil, err
		}
		vals, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return nil, err
		}
		if err := tx.Commit(ctx); err != nil {
			return nil, err
		}
		out := make([]int, len(vals))
		for i, v := range vals {
			out[i] = int(v)
		}
		return out, nil
	}()
	if err != nil {
		s.drop()
	}
	return vals, err
}

// appender writes numbered rows to the asynchronous service, recording the
// acknowledged ones.
type appender struct {
	mu      sync.Mutex
	acked   []int
	okTimes []time.Time
}

func (a *appender) run(ctx context.Context, f *localfed.Federation, ns, svc string, base int, seed uint64) {
	s := &session{f: f, ns: ns, svc: svc, rng: rand.New(rand.NewPCG(seed, 99))}
	defer s.drop()
	for id := base; ctx.Err() == nil; id++ {
		opCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := addValue(opCtx, s, opInput{Key: "rows", Val: id})
		cancel()
		if err == nil {
			a.mu.Lock()
			a.acked = append(a.acked, id)
			a.okTimes = append(a.okTimes, time.Now())
			a.mu.Unlock()
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// present reads which of the rows key "rows" holds at addr.
func present(ctx context.Context, addr netip.Addr) (map[int]bool, error) {
	conn, err := localfed.Connect(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT v FROM kv WHERE k = 'rows'")
	if err != nil {
		return nil, err
	}
	vals, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, v := range vals {
		out[int(v)] = true
	}
	return out, nil
}
