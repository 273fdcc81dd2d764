package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// LostLog is what a diverged server's log held beyond the point where the
// primary's history forked from it: writes no later primary has. Follow
// measures it before it rewinds or replaces the data, so it counts what
// the server wrote after it last reported, which no estimate can.
type LostLog struct {
	// Timeline is the server's timeline at the fork.
	Timeline uint32
	// Fork is the first position the primary's history does not share
	// with the server's: where the new primary's timeline began.
	Fork LSN
	// End is where the server's valid log ended.
	End LSN
	// Bytes is End - Fork: the log the primary's history lacks.
	Bytes uint64
	// Transactions is how many transactions that log committed (its
	// COMMIT and COMMIT PREPARED records).
	Transactions uint64
}

// FollowResult is what Follow or Seed did.
type FollowResult struct {
	// Path is what following took.
	Path FollowPath
	// Lost is the diverged log Follow measured before repairing it; nil
	// when the data had not diverged, or could not be measured (the
	// reason is logged).
	Lost *LostLog
}

// measureLost stops the server and measures its log beyond the fork from
// src's history: the fork from the two timeline histories (the server's
// history file in pg_wal, src's from TIMELINE_HISTORY), then the records
// from there to the end of the valid log, read with pg_waldump on each
// timeline of the server's history past the fork.
func (in *Instance) measureLost(ctx context.Context, local localLog, src source) (LostLog, error) {
	if err := in.stop(ctx, StopFast); err != nil {
		return LostLog{}, err
	}
	walDir := filepath.Join(in.cfg.DataDir, "pg_wal")
	var history []fork
	if local.Timeline > 1 {
		b, err := os.ReadFile(filepath.Join(walDir, fmt.Sprintf("%08X.history", local.Timeline)))
		if err != nil {
			return LostLog{}, fmt.Errorf("history of timeline %d: %w", local.Timeline, err)
		}
		if history, err = parseHistory(string(b)); err != nil {
			return LostLog{}, fmt.Errorf("history of timeline %d: %w", local.Timeline, err)
		}
	}
	fork, lost, err := lostSpans(spans(history, local.Timeline, endless), spans(src.History, src.Timeline, src.Position))
	if err != nil {
		return LostLog{}, err
	}
	segSize, err := walSegmentSize(walDir)
	if err != nil {
		return LostLog{}, err
	}
	out := LostLog{Timeline: local.Timeline, Fork: fork, End: fork}
	if len(lost) > 0 {
		out.Timeline = lost[0].Timeline
	}
	for _, s := range lost {
		d, err := in.waldump(ctx, walDir, s)
		if err != nil {
			return LostLog{}, err
		}
		out.Transactions += d.Commits
		if d.Records > 0 {
			out.End = max(out.End, recordEnd(d.Last, d.LastLen, segSize))
		}
	}
	out.Bytes = out.End.Sub(out.Fork)
	return out, nil
}

// waldump reads the records of span s in walDir with pg_waldump: from
// s.Begin on s.Timeline, to s.End or, for the last span, to the end of
// the valid log.
func (in *Instance) waldump(ctx context.Context, walDir string, s span) (walDump, error) {
	args := []string{"--path=" + walDir, fmt.Sprintf("--timeline=%d", s.Timeline), "--start=" + s.Begin.String()}
	if s.End != endless {
		args = append(args, "--end="+s.End.String())
	}
	ctx, cancel := context.WithTimeout(ctx, in.cfg.CopyTimeout)
	defer cancel()
	var d walDump
	stderr, err := in.run.stream(ctx, "pg_waldump", args, func(r io.Reader) error {
		var err error
		d, err = parseWALDump(r)
		return err
	})
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || ctx.Err() != nil) {
		return walDump{}, fmt.Errorf("pg_waldump of timeline %d from %s: %w", s.Timeline, s.Begin, err)
	}
	if err := walDumpEnded(d, stderr, err != nil); err != nil {
		return walDump{}, fmt.Errorf("timeline %d from %s: %w", s.Timeline, s.Begin, err)
	}
	return d, nil
}

// walSegmentSize is the size of the log segments in walDir, read from
// the first one's file.
func walSegmentSize(walDir string) (uint64, error) {
	entries, err := os.ReadDir(walDir)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", walDir, err)
	}
	for _, e := range entries {
		if _, _, err := parseWALFileName(e.Name()); err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return 0, fmt.Errorf("stat %s: %w", e.Name(), err)
		}
		if n := uint64(fi.Size()); validSegSize(n) {
			return n, nil
		}
		return 0, fmt.Errorf("log segment %s: size %d is not a segment size", e.Name(), fi.Size())
	}
	return 0, fmt.Errorf("no log segment in %s", walDir)
}
