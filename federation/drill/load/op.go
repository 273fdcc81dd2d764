package load

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Kind is what an operation did.
type Kind string

// The kinds of operation.
const (
	// Write is one INSERT of a numbered row through the primary's name.
	Write Kind = "write"
	// Read is one SELECT of the highest row id on a ready replica.
	Read Kind = "read"
)

// Outcome is how an operation ended: OK, or the kind of its error.
type Outcome string

// The outcomes, in the order summaries list them.
const (
	// OK: the write was acknowledged (committed) or the read answered.
	OK Outcome = "ok"
	// ErrDNS: the name did not resolve (no answer, SERVFAIL, NXDOMAIN, no
	// address).
	ErrDNS Outcome = "dns"
	// ErrConnect: no session with the address (refused, unreachable,
	// authentication, or the operation's time ran out while connecting).
	ErrConnect Outcome = "connect"
	// ErrTimeout: the statement did not finish within the operation's time.
	ErrTimeout Outcome = "timeout"
	// ErrReadOnly: the server refused the write as read-only (SQLSTATE
	// 25006), a fenced primary or a standby.
	ErrReadOnly Outcome = "readonly"
	// ErrOther: any other error, such as a session cut by the server.
	ErrOther Outcome = "other"
)

// Outcomes lists every outcome, OK first, in the order summaries use.
func Outcomes() []Outcome {
	return []Outcome{OK, ErrDNS, ErrConnect, ErrTimeout, ErrReadOnly, ErrOther}
}

// Op is one recorded operation.
type Op struct {
	// Kind is Write or Read.
	Kind Kind
	// ID is the row id a write inserted (or tried to); for a read, the
	// highest id of this run the replica had, 0 for none.
	ID int64
	// Invoke is when the operation began, name resolution included.
	Invoke time.Time
	// Return is when its outcome was known.
	Return time.Time
	// Outcome is OK or the kind of error.
	Outcome Outcome
	// Addr is the server used; invalid when the name did not resolve.
	Addr netip.AddrPort
	// Err is the error's text; empty when OK.
	Err string
}

// Latency is the time from invoke to return.
func (o Op) Latency() time.Duration { return o.Return.Sub(o.Invoke) }

// The SQLSTATE codes the generator tells apart.
const (
	sqlstateReadOnly       = "25006" // read_only_sql_transaction
	sqlstateUndefinedTable = "42P01" // undefined_table
)

// phase is the step of an operation that failed.
type phase int

const (
	phaseResolve phase = iota
	phaseConnect
	phaseStatement
)

// classify maps an error of phase to an outcome. SQLSTATE 25006 is
// read-only wherever it comes from; otherwise a failed resolution is a
// DNS error and a failed connection a connection error, whatever the
// cause; a statement that ran out of time is a timeout.
func classify(p phase, err error) Outcome {
	switch {
	case err == nil:
		return OK
	case isCode(err, sqlstateReadOnly):
		return ErrReadOnly
	case p == phaseResolve:
		return ErrDNS
	case p == phaseConnect:
		return ErrConnect
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return ErrTimeout
	}
	return ErrOther
}

// isCode reports whether err carries the SQLSTATE code.
func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
