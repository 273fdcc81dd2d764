package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// createReplicationRole creates or updates ReplicationUser: it may log in
// and stream (REPLICATION), read the files pg_rewind compares (the
// functions its documentation lists) and request a checkpoint
// (pg_checkpoint), which Follow needs on a just-promoted source before a
// rewind. It is not a superuser.
func (in *Instance) createReplicationRole(ctx context.Context) error {
	role := quoteIdent(in.cfg.ReplicationUser)
	password := "NULL"
	if in.cfg.ReplicationPassword != "" {
		password = quoteLiteral(in.cfg.ReplicationPassword)
	}
	stmts := []string{
		fmt.Sprintf(`DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = %s) THEN CREATE ROLE %s; END IF;
		END $$`, quoteLiteral(in.cfg.ReplicationUser), role),
		fmt.Sprintf("ALTER ROLE %s WITH LOGIN REPLICATION PASSWORD %s", role, password),
		"GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO " + role,
		"GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO " + role,
		"GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO " + role,
		"GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO " + role,
		"GRANT pg_checkpoint TO " + role,
	}
	return in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
		for _, s := range stmts {
			if _, err := c.Exec(ctx, s); err != nil {
				return fmt.Errorf("replication role %s: %w", in.cfg.ReplicationUser, err)
			}
		}
		return nil
	})
}
