package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5"
)

// FollowPath is what Follow or Seed had to do to this server's data to
// follow the primary, for the caller to log and count.
type FollowPath string

const (
	// PathNone: the data was a prefix of the primary's history; only the
	// configuration changed.
	PathNone FollowPath = "none"
	// PathRewind: the data had diverged and pg_rewind brought it back onto
	// the primary's history.
	PathRewind FollowPath = "rewind"
	// PathBasebackup: the data was replaced by a fresh pg_basebackup copy,
	// because there was none, it was another cluster's, or a rewind failed.
	PathBasebackup FollowPath = "basebackup"
)

// slotName is the shape of a replication slot name.
var slotName = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// localLog is where this server's log ends, for comparing with a source.
type localLog struct {
	SystemID uint64
	// Timeline is the newest timeline the server holds log of, and End a
	// position at or below the end of that log: Follow must find every
	// position before End in the source's history.
	Timeline uint32
	End      LSN
	// Standby: the server is running as a standby, so it can be repointed
	// with a reload.
	Standby bool
	// Unusable: the data could not be recovered to a consistent state.
	Unusable bool
}

// diverged reports whether log ending before end on timeline tli holds
// anything src's history does not: log past the point where src's
// history left tli, log of a timeline src never had, or log src has not
// written yet on its own timeline.
func diverged(tli uint32, end LSN, src source) bool {
	if tli == src.Timeline {
		return end > src.Position
	}
	for _, f := range src.History {
		if f.Timeline == tli {
			return end > f.Switch
		}
	}
	return true
}

// choosePath is what following src takes for a server whose log is local.
func choosePath(local localLog, src source) FollowPath {
	switch {
	case local.Unusable || local.SystemID != src.SystemID:
		return PathBasebackup
	case diverged(local.Timeline, local.End, src):
		return PathRewind
	}
	return PathNone
}

// Follow makes this server a standby of primary, streaming through the
// physical slot slot ("" for none; see SlotName), and reports the path it
// took and, when the log had diverged, what it held beyond the fork
// (FollowResult.Lost). The server ends running as a standby of primary.
//
// Follow first asks primary for its system identifier and timeline
// history (IDENTIFY_SYSTEM, TIMELINE_HISTORY) and changes nothing when it
// cannot. Then it finds where the local log ends: a primary, stopped cleanly
// or stopped fast by Follow, ends with its shutdown checkpoint; any other
// server is started as a standby of primary, and once it has replayed the
// log it holds, its furthest received or replayed position is the end.
// When that log is a prefix of primary's history, only primary_conninfo
// (host, port, the replication user, application_name = Name) and
// primary_slot_name change: with ALTER SYSTEM and a reload on a running
// standby (PostgreSQL 13 and later reload both), in postgresql.auto.conf
// with standby.signal on a stopped server, which is then started. When the
// log diverged, the server is stopped and its log past the fork measured
// (LostLog: what the primary's history lacks), then it is recovered in
// single-user mode if it was not shut down cleanly (pg_rewind needs a
// clean shutdown of all its log), and rewound onto primary's history with
// pg_rewind; when that fails, or the data belongs to another cluster or
// cannot start, a fresh
// pg_basebackup copy replaces it. Follow also lifts any fence and drops the
// server's own replication slots, left from a time as primary: a standby
// needs neither.
//
// Call Follow once the old primary is fenced or stopped: a standby still
// receiving from it can move past the position measured. Follow is
// idempotent; if Status then shows the standby not streaming from
// primary, calling it again measures afresh.
func (in *Instance) Follow(ctx context.Context, primary Endpoint, slot string) (FollowResult, error) {
	if err := checkFollow(primary, slot); err != nil {
		return FollowResult{}, fmt.Errorf("follow %s: %w", in.cfg.Name, err)
	}
	unlock, err := in.lock(ctx)
	if err != nil {
		return FollowResult{}, err
	}
	defer unlock()
	made, err := exists(filepath.Join(in.cfg.DataDir, "PG_VERSION"))
	if err == nil && !made {
		err = ErrNoCluster
	}
	if err != nil {
		return FollowResult{}, fmt.Errorf("follow %s: %w", in.cfg.Name, err)
	}
	return in.follow(ctx, primary, slot)
}

// Seed makes this server a standby of primary like Follow, and also
// accepts an empty data directory, which it fills with pg_basebackup
// (-X stream, through slot when given, which must exist on primary) before
// starting the server. Data of another cluster is replaced; data of the
// same cluster is kept, rewound if needed, as Follow does. This is how a
// new replica, or one whose ordinal moved to another cluster, gets its
// data.
func (in *Instance) Seed(ctx context.Context, primary Endpoint, slot string) (FollowResult, error) {
	if err := checkFollow(primary, slot); err != nil {
		return FollowResult{}, fmt.Errorf("seed %s: %w", in.cfg.Name, err)
	}
	unlock, err := in.lock(ctx)
	if err != nil {
		return FollowResult{}, err
	}
	defer unlock()
	made, err := exists(filepath.Join(in.cfg.DataDir, "PG_VERSION"))
	if err != nil {
		return FollowResult{}, fmt.Errorf("seed %s: %w", in.cfg.Name, err)
	}
	if made {
		return in.follow(ctx, primary, slot)
	}
	if err := in.basebackup(ctx, primary, slot); err != nil {
		return FollowResult{}, fmt.Errorf("seed %s: %w", in.cfg.Name, err)
	}
	return FollowResult{Path: PathBasebackup}, nil
}

func checkFollow(primary Endpoint, slot string) error {
	if err := primary.validate(); err != nil {
		return err
	}
	if slot != "" && !slotName.MatchString(slot) {
		return fmt.Errorf("slot %q: must be 1-63 lower-case letters, digits or _", slot)
	}
	return nil
}

// follow is Follow once the data directory is known to hold a cluster. A
// measurement of the diverged log is returned even when the repair then
// fails: the log it measured may be gone.
func (in *Instance) follow(ctx context.Context, primary Endpoint, slot string) (FollowResult, error) {
	src, err := in.identify(ctx, primary)
	if err != nil {
		return FollowResult{}, fmt.Errorf("follow %s: %w", in.cfg.Name, err)
	}
	local, err := in.measure(ctx, primary, slot)
	if err != nil {
		return FollowResult{}, fmt.Errorf("follow %s: %w", in.cfg.Name, err)
	}
	var lost *LostLog
	path := choosePath(local, src)
	switch {
	case path == PathNone && local.Standby:
		err = in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
			if err := in.alterSystem(ctx, c, in.standbySettings(primary, slot)); err != nil {
				return err
			}
			return in.syncSlots(ctx, c, nil)
		})
	case path == PathNone:
		err = in.startStandby(ctx, primary, slot)
	case path == PathRewind:
		lost = in.lostLog(ctx, local, src)
		if err = in.rewind(ctx, primary, slot); err != nil && ctx.Err() == nil {
			logr.FromContextOrDiscard(ctx).Info("Rewind failed; copying the primary afresh",
				"replica", in.cfg.Name, "primary", primary.String(), "error", err.Error())
			path, err = PathBasebackup, in.basebackup(ctx, primary, slot)
		}
	default:
		err = in.basebackup(ctx, primary, slot)
	}
	res := FollowResult{Path: path, Lost: lost}
	if err != nil {
		return res, fmt.Errorf("follow %s (%s): %w", in.cfg.Name, path, err)
	}
	return res, nil
}

// lostLog measures the diverged log before it is repaired; a measurement
// that fails is logged and the repair goes on without it.
func (in *Instance) lostLog(ctx context.Context, local localLog, src source) *LostLog {
	lost, err := in.measureLost(ctx, local, src)
	log := logr.FromContextOrDiscard(ctx)
	if err != nil {
		log.Info("Cannot measure the diverged log before repairing it", "replica", in.cfg.Name, "error", err.Error())
		return nil
	}
	log.Info("Measured the diverged log", "replica", in.cfg.Name, "timeline", lost.Timeline,
		"fork", lost.Fork.String(), "end", lost.End.String(), "bytes", lost.Bytes, "transactions", lost.Transactions)
	return &lost
}
