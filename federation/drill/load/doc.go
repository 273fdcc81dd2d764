// Package load is client traffic for the DR drills of PostgreSQL services
// of the federation: it writes numbered rows through the service's primary
// name at a steady rate, optionally reads from its ready replicas, and
// records every operation, so that a drill can say how long clients could
// not write and whether any acknowledged write was lost.
//
// A Generator resolves primary.<svc>.<ns>.svc.<zone> at the federation's
// DNS server (never a system resolver), keeps one session with the
// address it names, and writes one row per tick: (run, id) with ids
// 1, 2, 3, ... Every failed operation drops the session and resolves the
// name again; an answer is also never kept past its TTL or
// Config.ResolveInterval, so the generator follows a new primary within a
// second of DNS naming it. Reads (Config.ReadRate) select the highest id
// of the run on one of the addresses of <svc>.<ns>.svc.<zone>.
//
// Every operation is recorded as an Op: invoke and return time, outcome
// (OK, or the error kind: dns, connect, timeout, readonly for SQLSTATE
// 25006, other), the server used and the row id. Snapshot (or Analyze, on
// a history) turns them into per-second buckets, totals with latency
// percentiles, and gaps: a gap is the time between two acknowledged
// writes, the downtime the longest one. After the drill, Verify reads the
// ids back from a server and returns the acknowledged writes it lacks.
//
//	g, err := load.New(cfg)
//	go g.Run(ctx)
//	...
//	s := g.Snapshot()            // s.Downtime, s.Gaps, s.Writes.Errors
//	lost, err := g.Verify(ctx, netip.MustParseAddrPort("127.12.0.3:5432"))
//
// Times come from Config.Clock, so the summaries are reproducible from a
// recorded history. docs/drills.md describes what is recorded and how the
// downtime is computed; fedctl load runs a Generator from the command line.
package load
