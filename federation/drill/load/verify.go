package load

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// verifyTimeout bounds Verify: a server reads a million ids in about a
// second; one that takes a minute is not answering.
const verifyTimeout = time.Minute

// Verify reads back this run's row ids from the server at addr and returns
// the acknowledged writes it lacks, ascending; none means no acknowledged
// write is lost there. Writes that failed or timed out may or may not be
// present, and are not reported. It blocks on the server, within ctx and
// at most a minute, and is safe to call while Run writes.
func (g *Generator) Verify(ctx context.Context, addr netip.AddrPort) ([]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	acked := g.Acknowledged()
	conn, err := connect(ctx, g.cfg, addr)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = conn.Close(cctx) // read-only session: nothing to lose
	}()
	rows, err := conn.Query(ctx, "SELECT id FROM "+g.cfg.table()+" WHERE run = $1", g.cfg.RunID)
	if err != nil {
		return nil, fmt.Errorf("verify: read the ids at %s: %w", addr, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("verify: read the ids at %s: %w", addr, err)
	}
	return missing(acked, ids), nil
}

// missing returns the ids of acked (ascending) that are not in present.
func missing(acked, present []int64) []int64 {
	have := make(map[int64]bool, len(present))
	for _, id := range present {
		have[id] = true
	}
	var out []int64
	for _, id := range acked {
		if !have[id] {
			out = append(out, id)
		}
	}
	return out
}
