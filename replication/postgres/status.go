package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Role is a server's replication role.
type Role string

const (
	// RolePrimary accepts writes (unless fenced) and streams to standbys.
	RolePrimary Role = "primary"
	// RoleStandby replays the log of a primary (pg_is_in_recovery).
	RoleStandby Role = "standby"
)

// Status is what a server reports about its role and log positions.
type Status struct {
	// Role is primary or standby.
	Role Role
	// Writable: a primary whose default is read-write transactions.
	Writable bool
	// Fenced: default_transaction_read_only is on server-wide, as Fence
	// sets it.
	Fenced bool
	// Timeline is the timeline the server writes (primary) or the latest
	// one it holds log of (standby).
	Timeline uint32
	// CurrentLSN is a primary's current write position (pg_current_wal_lsn).
	CurrentLSN LSN
	// ReceiveLSN is the last position a standby received and flushed from
	// its primary (pg_last_wal_receive_lsn); InvalidLSN if it never streamed.
	ReceiveLSN LSN
	// ReplayLSN is the last position a standby replayed (pg_last_wal_replay_lsn).
	ReplayLSN LSN
	// ReplayLag is how far in time a standby's replay is behind: zero when it
	// replayed all it received, else the age of the last replayed commit.
	// Valid only when ReplayLagKnown. It says nothing of log not yet
	// received; the primary's Standbys[].LagBytes does.
	ReplayLag time.Duration
	// ReplayLagKnown is false when a standby has no basis for ReplayLag (it
	// never streamed, or replayed no commit yet).
	ReplayLagKnown bool
	// Upstream is the primary a standby's WAL receiver is connected to
	// (pg_stat_wal_receiver); empty when it is not connected.
	Upstream Endpoint
	// Streaming: a standby's WAL receiver is streaming from Upstream.
	Streaming bool
	// SyncStandbyNames is synchronous_standby_names in effect.
	SyncStandbyNames string
	// SyncCommit is synchronous_commit in effect.
	SyncCommit string
	// Standbys are a primary's connected standbys (pg_stat_replication),
	// by name.
	Standbys []StandbyStatus
}

// StandbyStatus is one standby as its primary sees it.
type StandbyStatus struct {
	// Name is the standby's application_name, its replica name.
	Name string
	// State is the WAL sender's state: startup, catchup, streaming, backup
	// or stopping.
	State string
	// SyncState is async, potential, sync or quorum.
	SyncState string
	// FlushLSN is the last position the standby flushed to disk.
	FlushLSN LSN
	// ReplayLSN is the last position the standby replayed.
	ReplayLSN LSN
	// LagBytes is how many bytes of log the standby's replay is behind the
	// primary's CurrentLSN.
	LagBytes uint64
	// ReplayLag is pg_stat_replication.replay_lag: the time the primary last
	// waited for the standby's replay; zero when idle.
	ReplayLag time.Duration
}

// Position is the log position to compare candidates by: a primary's
// current position, a standby's furthest received or replayed one (a
// promoted standby replays all it received).
func (s Status) Position() LSN {
	if s.Role == RolePrimary {
		return s.CurrentLSN
	}
	return max(s.ReceiveLSN, s.ReplayLSN)
}

// Status queries the running server; ErrNotRunning when it is down.
func (in *Instance) Status(ctx context.Context) (Status, error) {
	var st Status
	err := in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
		var recovery bool
		var readOnly string
		if err := c.QueryRow(ctx, `SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only'),
			current_setting('synchronous_standby_names'), current_setting('synchronous_commit')`).
			Scan(&recovery, &readOnly, &st.SyncStandbyNames, &st.SyncCommit); err != nil {
			return err
		}
		st.Fenced = readOnly == "on"
		if recovery {
			st.Role = RoleStandby
			return standbyStatus(ctx, c, &st)
		}
		st.Role, st.Writable = RolePrimary, !st.Fenced
		return primaryStatus(ctx, c, &st)
	})
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", in.cfg.Name, err)
	}
	return st, nil
}

// primaryStatus fills a primary's position, timeline and standbys.
func primaryStatus(ctx context.Context, c *pgx.Conn, st *Status) error {
	var lsn, file string
	if err := c.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text, pg_walfile_name(pg_current_wal_lsn())`).
		Scan(&lsn, &file); err != nil {
		return err
	}
	var err error
	if st.CurrentLSN, err = ParseLSN(lsn); err != nil {
		return err
	}
	if st.Timeline, _, err = parseWALFileName(file); err != nil {
		return err
	}
	rows, err := c.Query(ctx, `SELECT coalesce(application_name, ''), coalesce(state, ''), coalesce(sync_state, ''),
		flush_lsn::text, replay_lsn::text, coalesce(EXTRACT(EPOCH FROM replay_lag)::float8, 0)
		FROM pg_stat_replication ORDER BY application_name, pid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s StandbyStatus
		var flush, replay *string
		var lag float64
		if err := rows.Scan(&s.Name, &s.State, &s.SyncState, &flush, &replay, &lag); err != nil {
			return err
		}
		if s.FlushLSN, err = parseNullLSN(flush); err != nil {
			return err
		}
		if s.ReplayLSN, err = parseNullLSN(replay); err != nil {
			return err
		}
		s.LagBytes, s.ReplayLag = st.CurrentLSN.Sub(s.ReplayLSN), secondsDuration(lag)
		st.Standbys = append(st.Standbys, s)
	}
	return rows.Err()
}

// standbyStatus fills a standby's positions, lag, timeline and upstream.
func standbyStatus(ctx context.Context, c *pgx.Conn, st *Status) error {
	var recv, replay, segment *string
	var lag *float64
	if err := c.QueryRow(ctx, `SELECT r::text, p::text,
			CASE WHEN r IS NULL THEN NULL WHEN r <= p THEN 0
				ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END,
			(SELECT max(name) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$')
		FROM pg_last_wal_receive_lsn() r, pg_last_wal_replay_lsn() p`).
		Scan(&recv, &replay, &lag, &segment); err != nil {
		return err
	}
	var err error
	if st.ReceiveLSN, err = parseNullLSN(recv); err != nil {
		return err
	}
	if st.ReplayLSN, err = parseNullLSN(replay); err != nil {
		return err
	}
	if lag != nil {
		st.ReplayLag, st.ReplayLagKnown = secondsDuration(*lag), true
	}
	if segment != nil {
		if st.Timeline, _, err = parseWALFileName(*segment); err != nil {
			return err
		}
	}
	var status, host *string
	var port *int32
	err = c.QueryRow(ctx, `SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver`).Scan(&status, &host, &port)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	if host != nil && port != nil && *port > 0 && *port <= 65535 {
		st.Upstream = Endpoint{Host: *host, Port: uint16(*port)}
	}
	st.Streaming = status != nil && *status == "streaming"
	return nil
}

// secondsDuration converts seconds from SQL to a Duration, clamping
// negative values (clock steps) to zero.
func secondsDuration(s float64) time.Duration {
	return max(0, time.Duration(s*float64(time.Second)))
}
