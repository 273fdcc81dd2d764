package load

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// closeTimeout bounds the goodbye to a server whose session is dropped:
// a dead server must not hold up the next operation.
const closeTimeout = 250 * time.Millisecond

// session is one connection to one server, kept between operations.
type session struct {
	addr netip.AddrPort
	conn *pgx.Conn
}

// close ends the session, if any.
func (s *session) close() {
	if s.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = s.conn.Close(ctx) // the session is abandoned either way
	s.conn = nil
}

// open makes sure the session is with addr: it keeps a session there and
// replaces one elsewhere. addr is the session's address from then on, even
// when connecting fails.
func (s *session) open(ctx context.Context, cfg Config, addr netip.AddrPort) error {
	if s.conn != nil && s.addr == addr {
		return nil
	}
	s.close()
	s.addr = addr
	c, err := connect(ctx, cfg, addr)
	if err != nil {
		return err
	}
	s.conn = c
	return nil
}

// connect opens a session with the server at addr as cfg's user, without
// TLS. The context bounds the whole connection.
func connect(ctx context.Context, cfg Config, addr netip.AddrPort) (*pgx.Conn, error) {
	pc, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, fmt.Errorf("connection settings: %w", err)
	}
	pc.Host, pc.Port = addr.Addr().String(), addr.Port()
	pc.User, pc.Password, pc.Database = cfg.User, cfg.Password, cfg.Database
	pc.Fallbacks = nil
	pc.RuntimeParams["application_name"] = "fedstate-load"
	c, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return c, nil
}

// table is the quoted table name.
func (c Config) table() string { return pgx.Identifier{c.Table}.Sanitize() }

// createSQL makes the table; run and id identify a row across runs.
func (c Config) createSQL() string {
	return "CREATE TABLE IF NOT EXISTS " + c.table() +
		" (run text NOT NULL, id bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run, id))"
}

// writer is the state of the write loop: its resolver, session and the
// next row id. Only the write loop uses it.
type writer struct {
	g      *Generator
	res    *resolver
	s      session
	lastID int64
}

// write inserts the next row through the primary's name.
func (w *writer) write(ctx context.Context) Op {
	w.lastID++
	op := Op{Kind: Write, ID: w.lastID, Invoke: w.g.clock.Now()}
	ctx, cancel := context.WithTimeout(ctx, w.g.cfg.OpTimeout)
	defer cancel()
	p, err := w.insert(ctx, op.ID)
	return w.g.finish(op, w.s.addr, p, err, w.res, &w.s)
}

func (w *writer) insert(ctx context.Context, id int64) (phase, error) {
	cfg := w.g.cfg
	addrs, err := w.res.resolve(ctx)
	if err != nil {
		return phaseResolve, err
	}
	if err := w.s.open(ctx, cfg, netip.AddrPortFrom(addrs[0], cfg.Port)); err != nil {
		return phaseConnect, err
	}
	insert := "INSERT INTO " + cfg.table() + " (run, id) VALUES ($1, $2)"
	_, err = w.s.conn.Exec(ctx, insert, cfg.RunID, id)
	if isCode(err, sqlstateUndefinedTable) && cfg.CreateTable {
		if _, err := w.s.conn.Exec(ctx, cfg.createSQL()); err != nil {
			return phaseStatement, fmt.Errorf("create table %s: %w", cfg.Table, err)
		}
		_, err = w.s.conn.Exec(ctx, insert, cfg.RunID, id)
	}
	if err != nil {
		return phaseStatement, fmt.Errorf("insert row %d: %w", id, err)
	}
	return phaseStatement, nil
}

func (w *writer) close() { w.s.close() }

// reader is the state of the read loop: its resolver, session and a turn
// counter that spreads new sessions over the replicas.
type reader struct {
	g    *Generator
	res  *resolver
	s    session
	turn int
}

// read asks a ready replica for the highest row id of the run.
func (r *reader) read(ctx context.Context) Op {
	op := Op{Kind: Read, Invoke: r.g.clock.Now()}
	ctx, cancel := context.WithTimeout(ctx, r.g.cfg.OpTimeout)
	defer cancel()
	p, err := r.selectMax(ctx, &op.ID)
	return r.g.finish(op, r.s.addr, p, err, r.res, &r.s)
}

func (r *reader) selectMax(ctx context.Context, id *int64) (phase, error) {
	cfg := r.g.cfg
	addrs, err := r.res.resolve(ctx)
	if err != nil {
		return phaseResolve, err
	}
	addr := r.s.addr
	if r.s.conn == nil || !slices.Contains(addrs, addr.Addr()) {
		addr = netip.AddrPortFrom(addrs[r.turn%len(addrs)], cfg.Port)
		r.turn++
	}
	if err := r.s.open(ctx, cfg, addr); err != nil {
		return phaseConnect, err
	}
	err = r.s.conn.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM "+cfg.table()+" WHERE run = $1", cfg.RunID).Scan(id)
	if isCode(err, sqlstateUndefinedTable) {
		// No row of any run has reached this replica yet.
		return phaseStatement, nil
	}
	if err != nil {
		return phaseStatement, fmt.Errorf("read: %w", err)
	}
	return phaseStatement, nil
}

func (r *reader) close() { r.s.close() }

// finish completes op with its outcome. After an error the session is
// dropped and the name resolved again by the next operation.
func (g *Generator) finish(op Op, addr netip.AddrPort, p phase, err error, res *resolver, s *session) Op {
	op.Return = g.clock.Now()
	op.Outcome = classify(p, err)
	if p != phaseResolve {
		op.Addr = addr
	}
	if err != nil {
		op.Err = err.Error()
		res.forget()
		s.close()
	}
	return op
}
