package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// source is what Follow learns of the server it is to follow.
type source struct {
	// SystemID identifies the cluster; a copy shares its origin's.
	SystemID uint64
	// Timeline is the source's current timeline and History its ancestry.
	Timeline uint32
	History  []fork
	// Position is the source's flushed log position.
	Position LSN
}

// checkAppName is the application_name of the Instance's own connections
// to other servers; DNS labels cannot contain "_", so it never names a
// replica in synchronous_standby_names.
const checkAppName = "fedstate_follow"

// replicationConninfo is a connection string to ep as the replication
// user, with application name app and further pairs.
func (in *Instance) replicationConninfo(ep Endpoint, app string, extra ...kv) string {
	pairs := []kv{{"host", ep.Host}, {"port", strconv.Itoa(int(ep.Port))},
		{"user", in.cfg.ReplicationUser}, {"application_name", app},
		{"connect_timeout", strconv.Itoa(seconds(in.cfg.RequestTimeout))}}
	return conninfo(append(pairs, extra...)...)
}

// passwordEnv passes the replication password to a program.
func (in *Instance) passwordEnv() []string {
	if in.cfg.ReplicationPassword == "" {
		return nil
	}
	return []string{"PGPASSWORD=" + in.cfg.ReplicationPassword}
}

// identify asks ep, over a physical replication connection, for its system
// identifier, timeline, position (IDENTIFY_SYSTEM) and timeline history
// (TIMELINE_HISTORY).
func (in *Instance) identify(ctx context.Context, ep Endpoint) (source, error) {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.RequestTimeout)
	defer cancel()
	cfg, err := pgconn.ParseConfig(in.replicationConninfo(ep, checkAppName,
		kv{"password", in.cfg.ReplicationPassword}, kv{"replication", "true"}))
	if err != nil {
		return source{}, fmt.Errorf("connection settings: %w", err)
	}
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return source{}, fmt.Errorf("connect to %s: %w", ep, err)
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
	row, err := replicationRow(ctx, c, "IDENTIFY_SYSTEM", 3)
	if err != nil {
		return source{}, fmt.Errorf("identify %s: %w", ep, err)
	}
	src, err := parseIdentify(row)
	if err != nil {
		return source{}, fmt.Errorf("identify %s: %w", ep, err)
	}
	if src.Timeline == 1 {
		return src, nil
	}
	row, err = replicationRow(ctx, c, fmt.Sprintf("TIMELINE_HISTORY %d", src.Timeline), 2)
	if err != nil {
		return source{}, fmt.Errorf("timeline history of %s: %w", ep, err)
	}
	if src.History, err = parseHistory(decodeHistoryContent(row[1])); err != nil {
		return source{}, fmt.Errorf("timeline history of %s: %w", ep, err)
	}
	return src, nil
}

// replicationRow runs a replication command and returns its one row, which
// must have at least n columns.
func replicationRow(ctx context.Context, c *pgconn.PgConn, cmd string, n int) ([]string, error) {
	results, err := c.Exec(ctx, cmd).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(results) != 1 || len(results[0].Rows) != 1 || len(results[0].Rows[0]) < n {
		return nil, fmt.Errorf("%s: want one row of %d columns", cmd, n)
	}
	row := make([]string, len(results[0].Rows[0]))
	for i, v := range results[0].Rows[0] {
		row[i] = string(v)
	}
	return row, nil
}

// parseIdentify parses IDENTIFY_SYSTEM's systemid, timeline and xlogpos.
func parseIdentify(row []string) (source, error) {
	if len(row) < 3 {
		return source{}, fmt.Errorf("IDENTIFY_SYSTEM: %d columns, want 3 or more", len(row))
	}
	var src source
	var err error
	if src.SystemID, err = strconv.ParseUint(row[0], 10, 64); err != nil {
		return source{}, fmt.Errorf("IDENTIFY_SYSTEM systemid %q: %w", row[0], err)
	}
	tli, err := strconv.ParseUint(row[1], 10, 32)
	if err != nil || tli == 0 {
		return source{}, fmt.Errorf("IDENTIFY_SYSTEM timeline %q: not a timeline", row[1])
	}
	src.Timeline = uint32(tli)
	if src.Position, err = ParseLSN(row[2]); err != nil {
		return source{}, fmt.Errorf("IDENTIFY_SYSTEM xlogpos: %w", err)
	}
	return src, nil
}

// decodeHistoryContent returns a history file's text from TIMELINE_HISTORY's
// content column, which a server may send as bytea in hex form.
func decodeHistoryContent(v string) string {
	if h, ok := strings.CutPrefix(v, `\x`); ok {
		if b, err := hex.DecodeString(h); err == nil {
			return string(b)
		}
	}
	return v
}
