package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotRunning: the operation needs a running server.
	ErrNotRunning = errors.New("postgres: server is not running")
	// ErrNoCluster: the data directory holds no database cluster yet.
	ErrNoCluster = errors.New("postgres: data directory holds no cluster")
	// ErrNotStandby: the operation needs a standby.
	ErrNotStandby = errors.New("postgres: server is not a standby")
	// ErrNotPrimary: the operation needs a primary.
	ErrNotPrimary = errors.New("postgres: server is not a primary")
)

// Instance manages one local PostgreSQL server: its data directory, its
// process and its replication role. Create it with New.
//
// Methods are safe for concurrent use. Those that change the server (Init,
// Start, Stop, Seed, Follow, Promote, Demote, Fence, Unfence,
// ConfigurePrimary) run one at a time, each waiting for the previous one
// or for its context; Status, Running and WaitReplay only read. Every
// method may block: on the programs it runs, bounded by Config's timeouts,
// and on SQL, each connection and statement bounded by RequestTimeout
// unless its own timeout says otherwise, and all by ctx.
type Instance struct {
	cfg Config
	run runner
	// ops holds one token, taken by the operations that change the server.
	ops chan struct{}
}

// New returns an Instance for cfg after validating it. It looks up the OS
// user when this process is root, and touches neither the data directory
// nor the server.
func New(cfg Config) (*Instance, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("postgres config: %w", err)
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	in := &Instance{cfg: cfg, run: r, ops: make(chan struct{}, 1)}
	in.ops <- struct{}{}
	return in, nil
}

// Config returns the configuration the Instance was made with.
func (in *Instance) Config() Config { return in.cfg }

// Endpoint is where this server accepts replication connections.
func (in *Instance) Endpoint() Endpoint {
	return Endpoint{Host: in.cfg.Listen.String(), Port: in.cfg.Port}
}

// lock takes the operation token, or returns ctx's error.
func (in *Instance) lock(ctx context.Context) (unlock func(), err error) {
	select {
	case <-in.ops:
		return func() { in.ops <- struct{}{} }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for another operation on %s: %w", in.cfg.Name, context.Cause(ctx))
	}
}

// localConninfo is the superuser's connection over the Unix socket.
func (in *Instance) localConninfo() string {
	return conninfo(kv{"host", in.cfg.SocketDir}, kv{"port", strconv.Itoa(int(in.cfg.Port))},
		kv{"user", in.cfg.Superuser}, kv{"dbname", "postgres"},
		kv{"application_name", "fedstate-" + in.cfg.Name}, kv{"sslmode", "disable"})
}

// withConn connects as the superuser over the Unix socket, within
// RequestTimeout, and runs fn with a context bounded by timeout (only by
// ctx when timeout is 0). A server that is not up returns ErrNotRunning.
func (in *Instance) withConn(ctx context.Context, timeout time.Duration, fn func(ctx context.Context, c *pgx.Conn) error) error {
	cc, err := pgx.ParseConfig(in.localConninfo())
	if err != nil {
		return fmt.Errorf("connection settings: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, in.cfg.RequestTimeout)
	defer cancel()
	c, err := pgx.ConnectConfig(cctx, cc)
	if err != nil {
		if up, rerr := in.running(ctx); rerr == nil && !up {
			return fmt.Errorf("connect: %w", ErrNotRunning)
		}
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		// A clean close with a short deadline; the caller's result stands.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer ccancel()
		_ = c.Close(cctx)
	}()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return fn(ctx, c)
}
