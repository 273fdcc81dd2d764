package postgres

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// span is a stretch [Begin, End) of log positions that a history spends
// on Timeline; the last span of a server's history ends at endless.
type span struct {
	Timeline   uint32
	Begin, End LSN
}

// endless is the End of a span whose log goes on as far as it was written.
const endless = LSN(math.MaxUint64)

// spans is the history of timeline tli, whose ancestry is history (its
// history file), as spans; the last, tli's own, ends at end.
func spans(history []fork, tli uint32, end LSN) []span {
	var out []span
	begin := InvalidLSN
	for _, f := range history {
		out = append(out, span{Timeline: f.Timeline, Begin: begin, End: f.Switch})
		begin = f.Switch
	}
	return append(out, span{Timeline: tli, Begin: begin, End: end})
}

// lostSpans is the log of the history local that the history src does
// not hold: local's spans from the first position where they part, the
// fork, to local's end. Like pg_rewind's search for the common ancestor,
// the histories share their leading spans of the same timeline and
// beginning; the fork is where the last shared span ends in the first of
// them to leave it. The first span returned begins at the fork; they
// follow each other and none are empty. Histories without a first span in common belong to different
// clusters.
func lostSpans(local, src []span) (LSN, []span, error) {
	i := 0
	for i < len(local) && i < len(src) && local[i].Timeline == src[i].Timeline && local[i].Begin == src[i].Begin {
		i++
	}
	if i == 0 {
		return InvalidLSN, nil, errors.New("the histories share no timeline")
	}
	fork := min(local[i-1].End, src[i-1].End)
	var out []span
	from := fork
	for _, s := range local[i-1:] {
		s.Begin = max(s.Begin, from)
		if s.Begin < s.End {
			out = append(out, s)
			from = s.End
		}
	}
	return fork, out, nil
}

// walDump is what pg_waldump printed of a stretch of log.
type walDump struct {
	// Records is how many records it printed; Commits how many of them
	// commit a transaction (rmgr Transaction, COMMIT or COMMIT_PREPARED).
	Records, Commits uint64
	// Last is the position of the last record and LastLen its total
	// length in bytes; zero without records.
	Last    LSN
	LastLen uint64
}

// walRecordLine is one record as pg_waldump prints it (PostgreSQL 15):
// rmgr, lengths, transaction, position, previous record, description.
var walRecordLine = regexp.MustCompile(`^rmgr: (\S+) +len \(rec/tot\): *[0-9]+/ *([0-9]+), tx: *[0-9]+, ` +
	`lsn: ([0-9A-F]{1,8}/[0-9A-F]{1,8}), prev [0-9A-F]{1,8}/[0-9A-F]{1,8}, desc: ?(\S*)`)

// parseWALDump reads pg_waldump's standard output, one line per record,
// in log order, after a note when the start is not a record's ("first
// record is after ..."). Any other line is an error: the output is not
// what the driver asked for.
func parseWALDump(out io.Reader) (walDump, error) {
	var d walDump
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || n == 1 && strings.HasPrefix(line, "first record is after ") {
			continue
		}
		m := walRecordLine.FindStringSubmatch(line)
		if m == nil {
			return walDump{}, fmt.Errorf("pg_waldump line %d %q: not a record", n, cut(line, 120))
		}
		total, err := strconv.ParseUint(m[2], 10, 32)
		if err != nil {
			return walDump{}, fmt.Errorf("pg_waldump line %d: record length %q: %w", n, m[2], err)
		}
		lsn, err := ParseLSN(m[3])
		if err != nil {
			return walDump{}, fmt.Errorf("pg_waldump line %d: %w", n, err)
		}
		if d.Records > 0 && lsn <= d.Last {
			return walDump{}, fmt.Errorf("pg_waldump line %d: record at %s after one at %s", n, lsn, d.Last)
		}
		d.Records++
		d.Last, d.LastLen = lsn, total
		if m[1] == "Transaction" && (m[4] == "COMMIT" || m[4] == "COMMIT_PREPARED") {
			d.Commits++
		}
	}
	if err := sc.Err(); err != nil {
		return walDump{}, fmt.Errorf("pg_waldump output: %w", err)
	}
	return d, nil
}

// walDumpEnded judges how a pg_waldump run over a stretch of log ended,
// given what it printed (d), its error output and whether it failed.
// Without --end it stops with an error at the first position that holds
// no valid record, the end of the log: after at least one record that is
// the end it was run to find. Before any record, only "could not find a
// valid record" means an empty stretch; any other error (the stretch's
// first segment gone, an unreadable directory) means nothing was measured.
func walDumpEnded(d walDump, stderr string, failed bool) error {
	if !failed || d.Records > 0 || strings.Contains(stderr, "could not find a valid record after") {
		return nil
	}
	return fmt.Errorf("pg_waldump read no record: %s", tail(stderr))
}

// WAL page layout (PostgreSQL's XLOG_BLCKSZ and page header sizes): a
// record that crosses a page boundary resumes after the next page's
// header, the long one at the start of a segment.
const (
	walPageSize       = 8192
	walShortHeaderLen = 24
	walLongHeaderLen  = 40
)

// recordEnd is where the record of total bytes starting at start ends,
// as the server counts it: the record takes total bytes rounded up to 8
// (MAXALIGN; the next record starts there, and the server's positions,
// such as pg_current_wal_lsn and a timeline's switch point, are such
// ends), in a log of segSize-byte segments (a multiple of the page size),
// skipping the page headers it crosses; endless if it would pass the last
// position.
func recordEnd(start LSN, total, segSize uint64) LSN {
	pos, left := uint64(start), total
	if left%8 != 0 {
		left += 8 - left%8
	}
	for {
		room := walPageSize - pos%walPageSize
		if left <= room {
			if pos > math.MaxUint64-left {
				return endless
			}
			return LSN(pos + left)
		}
		if pos > math.MaxUint64-room-walLongHeaderLen {
			return endless
		}
		left -= room
		pos += room
		if pos%segSize == 0 {
			pos += walLongHeaderLen
		} else {
			pos += walShortHeaderLen
		}
	}
}

// validSegSize reports whether n can be a log segment size: a power of
// two from 1 MB to 1 GB, as initdb --wal-segsize allows.
func validSegSize(n uint64) bool {
	return n >= 1<<20 && n <= 1<<30 && n&(n-1) == 0
}

// cut shortens s to at most n bytes for an error message.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
