package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5"
)

// standbySettings are the postgresql.auto.conf settings of a standby of
// primary through slot, with any fence lifted.
func (in *Instance) standbySettings(primary Endpoint, slot string) map[string]string {
	return map[string]string{
		"primary_conninfo": in.replicationConninfo(primary, in.cfg.Name,
			kv{"password", in.cfg.ReplicationPassword}),
		"primary_slot_name":             slot,
		"default_transaction_read_only": "off",
		"synchronous_standby_names":     "",
	}
}

// startStandby writes the standby settings and standby.signal into the
// stopped server's data directory and starts it.
func (in *Instance) startStandby(ctx context.Context, primary Endpoint, slot string) error {
	if err := in.editAutoConfFile(in.standbySettings(primary, slot)); err != nil {
		return err
	}
	if err := in.run.touch(filepath.Join(in.cfg.DataDir, standbySignal)); err != nil {
		return err
	}
	if err := in.start(ctx); err != nil {
		return err
	}
	// Slots left from a time as primary would hold log back for nobody.
	return in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
		return in.syncSlots(ctx, c, nil)
	})
}

// measure finds where the local log ends. A stopped primary shut down
// cleanly ends with its shutdown checkpoint; a running primary is stopped
// (fast) to be one. Any other server is made a running standby of primary
// first: started (when stopped) with the standby settings, so that it
// replays all the log it holds without receiving any from an old primary,
// and then asked. A server that cannot even start is unusable.
func (in *Instance) measure(ctx context.Context, primary Endpoint, slot string) (localLog, error) {
	role, up, err := in.role(ctx)
	if err != nil {
		return localLog{}, err
	}
	if up && role == RolePrimary {
		if err := in.stop(ctx, StopFast); err != nil {
			return localLog{}, err
		}
		up = false
	}
	if !up {
		cd, err := in.controlData(ctx)
		if err != nil {
			return localLog{}, err
		}
		if cd.State == stateShutDown {
			// The checkpoint record starts at cd.Checkpoint and ends after it.
			return localLog{SystemID: cd.SystemID, Timeline: cd.CheckpointTimeline, End: cd.Checkpoint + 1}, nil
		}
		if err := in.startStandby(ctx, primary, slot); err != nil {
			if ctx.Err() != nil {
				return localLog{}, err
			}
			logr.FromContextOrDiscard(ctx).Info("Server does not start; its data will be copied afresh",
				"replica", in.cfg.Name, "error", err.Error())
			return localLog{Unusable: true}, nil
		}
	}
	return in.measureStandby(ctx)
}

// measureStandby asks a running standby for its system identifier, the
// newest timeline it holds log of, and the furthest position it received
// or replayed. It first waits (StartTimeout) until the standby replayed
// all the log in its pg_wal: the standby then asks for streaming, which
// makes pg_last_wal_receive_lsn non-NULL, or, with nothing to stream from,
// waits in RecoveryRetrieveRetryInterval.
func (in *Instance) measureStandby(ctx context.Context) (localLog, error) {
	l := localLog{Standby: true}
	ctx, cancel := context.WithTimeout(ctx, in.cfg.StartTimeout)
	defer cancel()
	err := in.withConn(ctx, 0, func(ctx context.Context, c *pgx.Conn) error {
		for {
			var sysid string
			var segment, recv, replay, wait *string
			if err := c.QueryRow(ctx, `SELECT system_identifier::text,
					(SELECT max(name) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'),
					pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,
					(SELECT wait_event FROM pg_stat_activity WHERE backend_type = 'startup')
				FROM pg_control_system()`).Scan(&sysid, &segment, &recv, &replay, &wait); err != nil {
				return err
			}
			if recv == nil && (wait == nil || *wait != "RecoveryRetrieveRetryInterval") {
				if err := pause(ctx, in.cfg.PollInterval); err != nil {
					return fmt.Errorf("wait for the replay of the local log: %w", err)
				}
				continue
			}
			var err error
			if l.SystemID, err = strconv.ParseUint(sysid, 10, 64); err != nil {
				return fmt.Errorf("system identifier %q: %w", sysid, err)
			}
			if segment == nil {
				return fmt.Errorf("no log segment in pg_wal")
			}
			if l.Timeline, _, err = parseWALFileName(*segment); err != nil {
				return err
			}
			r, err := parseNullLSN(recv)
			if err != nil {
				return err
			}
			p, err := parseNullLSN(replay)
			l.End = max(r, p)
			return err
		}
	})
	return l, err
}
