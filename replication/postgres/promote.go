package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Promotion is where a promoted server's new timeline began.
type Promotion struct {
	// Timeline is the server's timeline after promotion.
	Timeline uint32
	// Switch is the position where Timeline began: everything the server
	// replayed from its old primary lies before it. InvalidLSN on timeline 1.
	Switch LSN
}

// Promote turns a running standby into a writable primary and returns
// the new timeline. First it applies sync with ConfigurePrimary and lifts
// any fence, so the very first commit is already replicated as sync says;
// then it calls pg_promote and waits for it (PromoteTimeout), and requests
// a checkpoint so the control file names the new timeline, which pg_rewind
// on a former primary reads from this one. On a primary it changes nothing
// and reports the current timeline.
func (in *Instance) Promote(ctx context.Context, sync SyncSpec) (Promotion, error) {
	if err := in.checkSync(sync); err != nil {
		return Promotion{}, err
	}
	unlock, err := in.lock(ctx)
	if err != nil {
		return Promotion{}, err
	}
	defer unlock()
	role, _, err := in.role(ctx)
	if err != nil {
		return Promotion{}, fmt.Errorf("promote %s: %w", in.cfg.Name, err)
	}
	if role == RoleStandby {
		if err := in.configurePrimary(ctx, sync, true); err != nil {
			return Promotion{}, fmt.Errorf("promote %s: %w", in.cfg.Name, err)
		}
	}
	var p Promotion
	err = in.withConn(ctx, in.cfg.PromoteTimeout+in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
		if role == RoleStandby {
			var done bool
			if err := c.QueryRow(ctx, "SELECT pg_promote(true, $1)", seconds(in.cfg.PromoteTimeout)).Scan(&done); err != nil {
				return err
			}
			if !done {
				return fmt.Errorf("pg_promote did not finish within %v", in.cfg.PromoteTimeout)
			}
			if _, err := c.Exec(ctx, "CHECKPOINT"); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
		}
		var file string
		if err := c.QueryRow(ctx, "SELECT pg_walfile_name(pg_current_wal_lsn())").Scan(&file); err != nil {
			return err
		}
		var err error
		if p.Timeline, _, err = parseWALFileName(file); err != nil || p.Timeline == 1 {
			return err
		}
		var history string
		if err := c.QueryRow(ctx, "SELECT pg_read_file($1)", fmt.Sprintf("pg_wal/%08X.history", p.Timeline)).
			Scan(&history); err != nil {
			return fmt.Errorf("timeline history: %w", err)
		}
		forks, err := parseHistory(history)
		if err != nil || len(forks) == 0 {
			return fmt.Errorf("timeline %d history: %w (%d entries)", p.Timeline, err, len(forks))
		}
		p.Switch = forks[len(forks)-1].Switch
		return nil
	})
	if err != nil {
		return Promotion{}, fmt.Errorf("promote %s: %w", in.cfg.Name, err)
	}
	return p, nil
}

// WaitReplay waits until this standby has replayed the log up to at least
// lsn, probing every PollInterval over one connection, until ctx ends.
// Planned switchovers wait for the demotion token (Demote) this way
// before promoting. ErrNotStandby when the server is a primary.
func (in *Instance) WaitReplay(ctx context.Context, lsn LSN) error {
	var last LSN
	err := in.withConn(ctx, 0, func(ctx context.Context, c *pgx.Conn) error {
		for {
			qctx, cancel := context.WithTimeout(ctx, in.cfg.RequestTimeout)
			var standby bool
			var replay *string
			err := c.QueryRow(qctx, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text").Scan(&standby, &replay)
			cancel()
			if err != nil {
				return err
			}
			if !standby {
				return ErrNotStandby
			}
			if last, err = parseNullLSN(replay); err != nil {
				return err
			}
			if last >= lsn {
				return nil
			}
			if err := pause(ctx, in.cfg.PollInterval); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return fmt.Errorf("wait for %s to replay %v (at %v): %w", in.cfg.Name, lsn, last, err)
	}
	return nil
}
