package postgres

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseWALDump(t *testing.T) {
	real, err := os.ReadFile("testdata/waldump.txt")
	if err != nil {
		t.Fatal(err)
	}
	const (
		commit   = "rmgr: Transaction len (rec/tot):     34/    34, tx:        726, lsn: 0/015167D8, prev 0/01516798, desc: COMMIT 2026-11-23 17:16:46.586207 UTC\n"
		insert   = "rmgr: Heap        len (rec/tot):     59/    59, tx:        726, lsn: 0/01516798, prev 0/01516770, desc: INSERT off 2 flags 0x00, blkref #0: rel 1663/5/16384 blk 0\n"
		prepared = "rmgr: Transaction len (rec/tot):     66/    66, tx:          0, lsn: 0/01516800, prev 0/015167D8, desc: COMMIT_PREPARED 742: 2026-11-23 17:16:47.000000 UTC\n"
		abort    = "rmgr: Transaction len (rec/tot):     34/    34, tx:        727, lsn: 0/01516848, prev 0/01516800, desc: ABORT 2026-11-23 17:16:47.100000 UTC\n"
		fpw      = "rmgr: Btree       len (rec/tot):     53/  6561, tx:        724, lsn: 1/01514B90, prev 1/01514B38, desc: INSERT_LEAF off 111, blkref #0: rel 1663/5/2673 blk 9 FPW\n"
	)
	tests := []struct {
		name string
		in   string
		want walDump
		ok   bool
	}{
		{name: "server output", in: string(real), want: walDump{Records: 6, Commits: 3, Last: 0x15167D8, LastLen: 34}, ok: true},
		{name: "empty", in: "", ok: true},
		{name: "insert and commit", in: insert + commit, want: walDump{Records: 2, Commits: 1, Last: 0x15167D8, LastLen: 34}, ok: true},
		{name: "commit prepared counts, abort does not", in: commit + prepared + abort,
			want: walDump{Records: 3, Commits: 2, Last: 0x1516848, LastLen: 34}, ok: true},
		{name: "large record", in: fpw, want: walDump{Records: 1, Last: 0x1_01514B90, LastLen: 6561}, ok: true},
		{name: "out of order", in: commit + insert},
		{name: "the same record twice", in: commit + commit},
		{name: "not a record", in: insert + "pg_waldump: error: something\n"},
		{name: "note not first", in: insert + "first record is after 0/1516500, at 0/1516550, skipping over 80 bytes\n"},
		{name: "lower-case position", in: strings.Replace(commit, "0/015167D8", "0/015167d8", 1)},
		{name: "length past 32 bits", in: strings.Replace(commit, "    34, tx", "4294967296, tx", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWALDump(strings.NewReader(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseWALDump = %+v, %v; want %+v, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestWALDumpEnded(t *testing.T) {
	some := walDump{Records: 2, Commits: 1, Last: 0x15167D8, LastLen: 34}
	tests := []struct {
		name   string
		d      walDump
		stderr string
		failed bool
		ok     bool
	}{
		{name: "reached --end", d: some, ok: true},
		{name: "end of the valid log", d: some, failed: true, ok: true,
			stderr: "pg_waldump: error: error in WAL record at 0/15167D8: invalid record length at 0/1516800: wanted 24, got 0\n"},
		{name: "log ends with a segment", d: some, failed: true, ok: true,
			stderr: `pg_waldump: error: could not find file "000000010000000000000003": No such file or directory` + "\n"},
		{name: "nothing after the start", failed: true, ok: true,
			stderr: "pg_waldump: error: could not find a valid record after 0/1516800\n"},
		{name: "start segment gone", failed: true,
			stderr: `pg_waldump: error: could not find file "000000010000000000000003": No such file or directory` + "\n"},
		{name: "no directory", failed: true, stderr: `pg_waldump: error: could not open directory "/x": No such file or directory` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := walDumpEnded(tt.d, tt.stderr, tt.failed); (err == nil) != tt.ok {
				t.Errorf("walDumpEnded = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestRecordEnd(t *testing.T) {
	const seg = 16 << 20
	tests := []struct {
		name  string
		start LSN
		total uint64
		want  LSN
	}{
		// The server found no record at 0/1516800.
		{name: "within a page", start: 0x15167D8, total: 34, want: 0x1516800},
		{name: "to the page's end", start: 0x1517FE0, total: 27, want: 0x1518000},
		// The server put the next record at 0/1516550.
		{name: "over a page header", start: 0x1514B90, total: 6561, want: 0x1516550},
		{name: "over a segment's long header", start: 0x1FFFFF0, total: 32, want: 0x2000000 + 40 + 16},
		{name: "over several pages", start: 0x2000028, total: 3 * 8192, want: 0x2000028 + 3*8192 + 3*24},
		{name: "past the last position", start: endless - 8, total: 100, want: endless},
		{name: "empty", start: 0x100, want: 0x100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recordEnd(tt.start, tt.total, seg); got != tt.want {
				t.Errorf("recordEnd(%s, %d) = %s, want %s", tt.start, tt.total, got, tt.want)
			}
		})
	}
}

func TestLostSpans(t *testing.T) {
	tests := []struct {
		name     string
		local    []span
		src      []span
		fork     LSN
		want     []span
		notShare bool
	}{
		{name: "old primary on the parent timeline",
			local: spans(nil, 1, endless), src: spans([]fork{{1, 0x3000148}}, 2, 0x5000000),
			fork: 0x3000148, want: []span{{1, 0x3000148, endless}}},
		{name: "old primary on a later timeline",
			local: spans([]fork{{1, 0x3000148}}, 2, endless),
			src:   spans([]fork{{1, 0x3000148}, {2, 0x4000000}}, 3, 0x5000000),
			fork:  0x4000000, want: []span{{2, 0x4000000, endless}}},
		{name: "old primary promoted again after the fork",
			local: spans([]fork{{1, 0x3000000}, {2, 0x3800000}}, 3, endless),
			src:   spans([]fork{{1, 0x3000000}, {2, 0x3400000}}, 4, 0x5000000),
			fork:  0x3400000, want: []span{{2, 0x3400000, 0x3800000}, {3, 0x3800000, endless}}},
		{name: "same timeline, source behind",
			local: spans(nil, 1, endless), src: spans(nil, 1, 0x2000000),
			fork: 0x2000000, want: []span{{1, 0x2000000, endless}}},
		{name: "a timeline the source never had",
			local: spans([]fork{{1, 0x3000148}}, 3, endless), src: spans([]fork{{1, 0x3000148}}, 2, 0x5000000),
			fork: 0x3000148, want: []span{{3, 0x3000148, endless}}},
		{name: "the old primary switched at the fork",
			local: spans([]fork{{1, 0x3000148}}, 3, endless), src: spans([]fork{{1, 0x4000000}}, 2, 0x5000000),
			fork: 0x3000148, want: []span{{3, 0x3000148, endless}}},
		{name: "different clusters",
			local: spans([]fork{{2, 0x3000000}}, 3, endless), src: spans(nil, 1, 0x5000000), notShare: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fork, got, err := lostSpans(tt.local, tt.src)
			if (err != nil) != tt.notShare || fork != tt.fork || !slices.Equal(got, tt.want) {
				t.Errorf("lostSpans = %s, %v, %v; want %s, %v, error %v", fork, got, err, tt.fork, tt.want, tt.notShare)
			}
		})
	}
}

// FuzzParseWALDump feeds arbitrary output to the parser and the judge of
// pg_waldump's end: they never panic, and what they accept is coherent.
func FuzzParseWALDump(f *testing.F) {
	real, err := os.ReadFile("testdata/waldump.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(real), "pg_waldump: error: error in WAL record at 0/15167D8: invalid record length at 0/1516800: wanted 24, got 0", true)
	f.Add("", "pg_waldump: error: could not find a valid record after 0/1516800", true)
	f.Add("rmgr: Transaction len (rec/tot): 1/ 4294967295, tx: 1, lsn: FFFFFFFF/FFFFFFF0, prev 0/0, desc: COMMIT", "", false)
	f.Fuzz(func(t *testing.T, out, stderr string, failed bool) {
		d, err := parseWALDump(strings.NewReader(out))
		if err != nil {
			return
		}
		if d.Commits > d.Records || (d.Records == 0 && (d.Last != 0 || d.LastLen != 0)) {
			t.Fatalf("parseWALDump = %+v: incoherent", d)
		}
		if d.Records > 0 {
			if end := recordEnd(d.Last, d.LastLen, 16<<20); end != endless && (end < d.Last || end-d.Last < LSN(d.LastLen) || end%8 != d.Last%8) {
				t.Fatalf("recordEnd(%s, %d) = %s: before the record's last byte", d.Last, d.LastLen, end)
			}
		}
		_ = walDumpEnded(d, stderr, failed)
	})
}

// FuzzLostSpans feeds arbitrary timeline histories to the search for the
// fork: it never panics, and the spans it returns are the local history's
// past the fork, in order and not empty.
func FuzzLostSpans(f *testing.F) {
	f.Add("1\t0/3000148\treason\n", uint32(1), "", uint32(2), uint64(0x5000000))
	f.Add("1\t0/3000000\n2\t0/3800000\n", uint32(3), "1\t0/3000000\n2\t0/3400000\n", uint32(4), uint64(0x5000000))
	f.Fuzz(func(t *testing.T, localHist string, localTLI uint32, srcHist string, srcTLI uint32, srcPos uint64) {
		lh, err1 := parseHistory(localHist)
		sh, err2 := parseHistory(srcHist)
		if err1 != nil || err2 != nil {
			return
		}
		fork, lost, err := lostSpans(spans(lh, localTLI, endless), spans(sh, srcTLI, LSN(srcPos)))
		if err != nil {
			return
		}
		for i, s := range lost {
			if s.Begin >= s.End || s.Begin < fork || (i > 0 && s.Begin < lost[i-1].End) {
				t.Fatalf("lostSpans = %s, %v: span %d out of place", fork, lost, i)
			}
		}
		if len(lost) > 0 && lost[0].Begin != fork {
			t.Fatalf("lostSpans = %s, %v: the first span does not begin at the fork", fork, lost)
		}
	})
}
