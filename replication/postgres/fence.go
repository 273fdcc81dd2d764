package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// FencedStandbyName is the synchronous standby a fenced primary waits for.
// Replica names are DNS labels, which cannot contain "_", so no standby
// ever has this name and no commit on a fenced primary is acknowledged.
const FencedStandbyName = "fedstate_fenced"

// fenceSettings make a primary refuse writes by default and withhold the
// acknowledgement of any commit that slips through.
func fenceSettings() map[string]string {
	return map[string]string{
		"default_transaction_read_only": "on",
		"synchronous_standby_names":     `"` + FencedStandbyName + `"`,
		"synchronous_commit":            "on",
	}
}

// Fence makes a running primary refuse writes and cuts its client
// sessions without stopping it, so that its standbys keep streaming and
// catch up with everything it wrote. It returns how many sessions it
// terminated. In order:
//
//  1. ALTER SYSTEM sets default_transaction_read_only = on, and
//     synchronous_standby_names to FencedStandbyName with synchronous_commit
//     on; these persist, so the server also restarts fenced.
//  2. The configuration is reloaded, and Fence waits until a new session
//     sees it, so no session can start with the old defaults afterwards.
//  3. Every client backend but Fence's own is terminated (pg_terminate_backend),
//     ending open transactions; replication connections are kept.
//
// default_transaction_read_only is only a default: a client may SET it
// off, or begin a READ WRITE transaction. Any commit it manages then waits
// for a standby that does not exist: it is durable on this server and
// streamed to the standbys, but never acknowledged, so no client believes
// a write that a failover may discard. That wait is also only a default
// (SET synchronous_commit = local skips it). Fencing is therefore a
// courtesy to well-behaved clients and a guard against acknowledged
// writes, not a lock: the fencing epoch in etcd and DNS naming the new
// primary are the guard; the hard fence is Stop(StopImmediate).
//
// On a stopped server Fence writes the same settings into
// postgresql.auto.conf, so that it starts fenced; on a standby it does
// nothing. Unfence lifts the fence.
func (in *Instance) Fence(ctx context.Context) (terminated int, err error) {
	unlock, err := in.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	terminated, err = in.fence(ctx)
	if err != nil {
		return terminated, fmt.Errorf("fence %s: %w", in.cfg.Name, err)
	}
	return terminated, nil
}

func (in *Instance) fence(ctx context.Context) (int, error) {
	up, err := in.running(ctx)
	if err != nil {
		return 0, err
	}
	if !up {
		return 0, in.editAutoConfFile(fenceSettings())
	}
	var terminated int
	err = in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
		var standby bool
		if err := c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil || standby {
			return err
		}
		if err := in.alterSystem(ctx, c, fenceSettings()); err != nil {
			return err
		}
		// Wait up to half the request timeout for each backend to exit.
		return c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, $1))
			FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
			max(1, in.cfg.RequestTimeout.Milliseconds()/2)).Scan(&terminated)
	})
	return terminated, err
}

// Unfence lifts Fence from a running primary: writes are accepted again,
// with synchronous replication as sync says (see ConfigurePrimary, which
// it also performs). The caller must hold the primary's lease again.
func (in *Instance) Unfence(ctx context.Context, sync SyncSpec) error {
	if err := in.checkSync(sync); err != nil {
		return err
	}
	unlock, err := in.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return in.configurePrimary(ctx, sync, true)
}

// Demote ends this server's time as primary for a planned switchover: it
// fences it (see Fence) and stops it cleanly, which sends the standbys
// all the log, up to and including the shutdown checkpoint. It returns
// the demotion token: the position just past the start of that
// checkpoint, the last record this server wrote. A standby whose replay
// reached the token (WaitReplay) has everything this server wrote, and
// once promoted this server can follow it without a rewind. On a server
// already stopped cleanly as a primary it only returns the token.
func (in *Instance) Demote(ctx context.Context) (LSN, error) {
	unlock, err := in.lock(ctx)
	if err != nil {
		return InvalidLSN, err
	}
	defer unlock()
	role, _, err := in.role(ctx)
	if err == nil && role == RoleStandby {
		err = ErrNotPrimary
	}
	if err != nil {
		return InvalidLSN, fmt.Errorf("demote %s: %w", in.cfg.Name, err)
	}
	if _, err := in.fence(ctx); err != nil {
		return InvalidLSN, fmt.Errorf("demote %s: %w", in.cfg.Name, err)
	}
	if err := in.stop(ctx, StopFast); err != nil {
		return InvalidLSN, fmt.Errorf("demote %s: %w", in.cfg.Name, err)
	}
	cd, err := in.controlData(ctx)
	if err != nil {
		return InvalidLSN, fmt.Errorf("demote %s: %w", in.cfg.Name, err)
	}
	if cd.State != stateShutDown {
		return InvalidLSN, fmt.Errorf("demote %s: %w (cluster state %q)", in.cfg.Name, ErrNotPrimary, cd.State)
	}
	return cd.Checkpoint + 1, nil
}
