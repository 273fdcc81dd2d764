package postgres

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

// controlData reads the data directory's control file (pg_controldata).
func (in *Instance) controlData(ctx context.Context) (controlData, error) {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.RequestTimeout)
	defer cancel()
	out, err := in.run.run(ctx, nil, "pg_controldata", "-D", in.cfg.DataDir)
	if err != nil {
		return controlData{}, err
	}
	return parseControlData(out)
}

// role reports whether the server runs and its role; a stopped server is
// a standby when its data directory holds standby.signal.
func (in *Instance) role(ctx context.Context) (role Role, up bool, err error) {
	if up, err = in.running(ctx); err != nil {
		return "", false, err
	}
	if !up {
		standby, err := exists(filepath.Join(in.cfg.DataDir, standbySignal))
		if err != nil {
			return "", false, err
		}
		if standby {
			return RoleStandby, false, nil
		}
		return RolePrimary, false, nil
	}
	var recovery bool
	err = in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovery)
	})
	if err != nil {
		return "", true, fmt.Errorf("role: %w", err)
	}
	if recovery {
		return RoleStandby, true, nil
	}
	return RolePrimary, true, nil
}
