package load

import (
	"net/netip"
	"slices"
	"time"
)

// Snapshot summarises a history of operations between Start and End.
type Snapshot struct {
	// Start and End bound the history: Run's start, and now or Run's end.
	Start, End time.Time
	// Buckets are the seconds from Start, each [Start+i s, Start+(i+1) s),
	// the last one cut at End. Operations fall in the second they returned.
	Buckets []Bucket
	// Writes and Reads total the operations of each kind.
	Writes, Reads Totals
	// Downtime is the longest gap between two acknowledged writes (see Gap).
	Downtime time.Duration
	// Gaps are the gaps longer than the threshold, in time order.
	Gaps []Gap
	// Primary is the server of the latest write that resolved the name.
	Primary netip.AddrPort
	// LastID is the id of the latest write attempted.
	LastID int64
}

// Bucket counts the operations that returned within one second.
type Bucket struct {
	// Start is the second's beginning.
	Start time.Time
	// Writes and WriteErrors count acknowledged and failed writes.
	Writes, WriteErrors int
	// Reads and ReadErrors count successful and failed reads.
	Reads, ReadErrors int
	// P50 and P99 are latency percentiles of the acknowledged writes; zero
	// when there were none.
	P50, P99 time.Duration
}

// Totals counts the operations of one kind.
type Totals struct {
	// OK counts acknowledged writes or successful reads.
	OK int
	// Errors counts failed operations by outcome; outcomes without
	// failures are absent.
	Errors map[Outcome]int
	// P50, P99 and Max are latency figures of the successful operations.
	P50, P99, Max time.Duration
}

// Failed is the number of failed operations.
func (t Totals) Failed() int {
	n := 0
	for _, c := range t.Errors {
		n += c
	}
	return n
}

// Gap is a time without acknowledged writes: from one acknowledgement to
// the next. Before the first acknowledgement, the gap starts at the run's
// start, and after the last it ends at the snapshot's end (Open); those
// two count only when writes failed in them, so that connecting at the
// start and the write under way at the end are not taken for an outage.
type Gap struct {
	// From is when the last write before the gap was acknowledged, or the
	// run's start.
	From time.Time
	// To is when the next write was acknowledged, or the snapshot's end.
	To time.Time
	// AfterID is the id of the write acknowledged at From, 0 for none;
	// BeforeID the id acknowledged at To, 0 for none.
	AfterID, BeforeID int64
	// Errors counts the writes that failed within the gap.
	Errors int
	// Open is true when no write was acknowledged since From.
	Open bool
}

// Duration is the gap's length.
func (g Gap) Duration() time.Duration { return g.To.Sub(g.From) }

// Analyze summarises ops (writes in the order they were issued) between
// start and end, listing gaps longer than threshold. It is a pure function
// of its arguments.
func Analyze(ops []Op, start, end time.Time, threshold time.Duration) Snapshot {
	s := Snapshot{Start: start, End: end}
	if end.After(start) {
		n := int((end.Sub(start) + time.Second - 1) / time.Second)
		s.Buckets = make([]Bucket, n)
		for i := range s.Buckets {
			s.Buckets[i].Start = start.Add(time.Duration(i) * time.Second)
		}
	}
	var writeLat, readLat []time.Duration
	bucketLat := make([][]time.Duration, len(s.Buckets))
	for _, op := range ops {
		i := s.index(op.Return)
		var b *Bucket
		if i >= 0 {
			b = &s.Buckets[i]
		}
		ok := op.Outcome == OK
		switch {
		case op.Kind == Write && ok:
			writeLat = append(writeLat, op.Latency())
			if b != nil {
				b.Writes++
				bucketLat[i] = append(bucketLat[i], op.Latency())
			}
		case op.Kind == Write:
			s.Writes.Errors = inc(s.Writes.Errors, op.Outcome)
			if b != nil {
				b.WriteErrors++
			}
		case ok:
			readLat = append(readLat, op.Latency())
			if b != nil {
				b.Reads++
			}
		default:
			s.Reads.Errors = inc(s.Reads.Errors, op.Outcome)
			if b != nil {
				b.ReadErrors++
			}
		}
		if op.Kind == Write {
			s.LastID = max(s.LastID, op.ID)
			if op.Addr.IsValid() {
				s.Primary = op.Addr
			}
		}
	}
	s.Writes.OK, s.Reads.OK = len(writeLat), len(readLat)
	s.Writes.P50, s.Writes.P99, s.Writes.Max = percentiles(writeLat)
	s.Reads.P50, s.Reads.P99, s.Reads.Max = percentiles(readLat)
	for i, l := range bucketLat {
		s.Buckets[i].P50, s.Buckets[i].P99, _ = percentiles(l)
	}
	s.Downtime, s.Gaps = gaps(ops, start, end, threshold)
	return s
}

// index returns the bucket of the second t falls in, clamped to the
// snapshot; -1 when there are no buckets.
func (s *Snapshot) index(t time.Time) int {
	if len(s.Buckets) == 0 {
		return -1
	}
	return max(0, min(int(t.Sub(s.Start)/time.Second), len(s.Buckets)-1))
}

func inc(m map[Outcome]int, o Outcome) map[Outcome]int {
	if m == nil {
		m = map[Outcome]int{}
	}
	m[o]++
	return m
}

// percentiles returns the nearest-rank 50th and 99th percentiles and the
// maximum of ls; zeros for none. It sorts ls.
func percentiles(ls []time.Duration) (p50, p99, top time.Duration) {
	if len(ls) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ls)
	rank := func(p int) time.Duration { return ls[(p*len(ls)+99)/100-1] }
	return rank(50), rank(99), ls[len(ls)-1]
}

// gaps returns the longest gap between acknowledged writes and the gaps
// longer than threshold.
func gaps(ops []Op, start, end time.Time, threshold time.Duration) (time.Duration, []Gap) {
	var (
		longest time.Duration
		list    []Gap
		cur     = Gap{From: start}
		acked   bool
	)
	keep := func(g Gap) {
		longest = max(longest, g.Duration())
		if g.Duration() > threshold {
			list = append(list, g)
		}
	}
	for _, op := range ops {
		switch {
		case op.Kind != Write:
		case op.Outcome != OK:
			cur.Errors++
		default:
			cur.To, cur.BeforeID = op.Return, op.ID
			if acked || cur.Errors > 0 {
				keep(cur)
			}
			cur, acked = Gap{From: op.Return, AfterID: op.ID}, true
		}
	}
	if cur.Errors > 0 {
		cur.To, cur.Open = end, true
		keep(cur)
	}
	return longest, list
}
