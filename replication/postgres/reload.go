package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// alterSystem sets each setting with ALTER SYSTEM, reloads the
// configuration and waits until new sessions see the values: the server
// reloads asynchronously, and a session that starts before the postmaster
// reloaded would still get the old defaults.
func (in *Instance) alterSystem(ctx context.Context, c *pgx.Conn, set map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if _, err := c.Exec(ctx, fmt.Sprintf("ALTER SYSTEM SET %s = %s", name, quoteLiteral(set[name]))); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	if _, err := c.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	return in.waitSettings(ctx, set)
}

// waitSettings polls new sessions until every setting has its value.
func (in *Instance) waitSettings(ctx context.Context, want map[string]string) error {
	names := slices.Sorted(maps.Keys(want))
	var differ string
	for {
		err := in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
			differ = ""
			for _, name := range names {
				var v string
				if err := c.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
					return err
				}
				if v != want[name] {
					differ = fmt.Sprintf("%s is %q, want %q", name, v, want[name])
					return nil
				}
			}
			return nil
		})
		if err != nil || differ == "" {
			return err
		}
		if err := pause(ctx, in.cfg.PollInterval); err != nil {
			return fmt.Errorf("wait for reload (%s): %w", differ, err)
		}
	}
}

// pause waits for d, or returns ctx's error.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
