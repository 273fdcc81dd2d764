package load

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// w is a write of id invoked at ms that took lat ms with outcome o on addr.
func w(id int64, ms, lat int, o Outcome, addr string) Op {
	op := Op{Kind: Write, ID: id, Invoke: at(ms), Return: at(ms + lat), Outcome: o}
	if addr != "" {
		op.Addr = netip.MustParseAddrPort(addr)
	}
	return op
}

// steady is n acknowledged writes every 100 ms from ms on addr, ids from
// first, each taking 10 ms.
func steady(first int64, ms, n int, addr string) []Op {
	var ops []Op
	for i := range n {
		ops = append(ops, w(first+int64(i), ms+100*i, 10, OK, addr))
	}
	return ops
}

func concat(parts ...[]Op) []Op {
	var all []Op
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

const (
	addrA = "127.0.0.1:5432"
	addrB = "127.0.0.2:5432"
)

func TestAnalyzeGaps(t *testing.T) {
	outage := concat(
		steady(1, 0, 10, addrA), // acks at 10 .. 910 ms
		[]Op{
			w(11, 1000, 5, ErrReadOnly, addrA),
			w(12, 1100, 5, ErrReadOnly, addrA),
			w(13, 1200, 1000, ErrTimeout, addrA),
			w(14, 2300, 2, ErrDNS, ""),
		},
		steady(15, 2400, 6, addrB), // acks at 2410 .. 2910 ms
	)
	for _, tc := range []struct {
		name     string
		ops      []Op
		end      int
		downtime time.Duration
		gaps     []Gap
	}{
		{name: "empty history", ops: nil, end: 1000},
		{name: "steady writes", ops: steady(1, 0, 20, addrA), end: 2000, downtime: 100 * time.Millisecond},
		{
			name: "failover in the middle", ops: outage, end: 3000, downtime: 1500 * time.Millisecond,
			gaps: []Gap{{From: at(910), To: at(2410), AfterID: 10, BeforeID: 15, Errors: 4}},
		},
		{
			name: "outage at the end stays open", ops: concat(steady(1, 0, 5, addrA), []Op{w(6, 500, 1000, ErrTimeout, addrA), w(7, 1600, 3, ErrConnect, addrA)}),
			end: 2000, downtime: 1590 * time.Millisecond,
			gaps: []Gap{{From: at(410), To: at(2000), AfterID: 5, Errors: 2, Open: true}},
		},
		{
			name: "outage at the start counts from the start", ops: concat([]Op{w(1, 0, 2, ErrDNS, ""), w(2, 100, 2, ErrDNS, ""), w(3, 200, 2, ErrDNS, ""), w(4, 300, 400, ErrConnect, addrA)}, steady(5, 800, 3, addrA)),
			end: 1200, downtime: 810 * time.Millisecond,
			gaps: []Gap{{From: at(0), To: at(810), BeforeID: 5, Errors: 4}},
		},
		{
			name: "slow first write is no outage", ops: concat([]Op{w(1, 0, 900, OK, addrA)}, steady(2, 1000, 3, addrA)),
			end: 1400, downtime: 110 * time.Millisecond,
		},
		{
			name: "nothing acknowledged", ops: []Op{w(1, 0, 1000, ErrTimeout, addrA), w(2, 1000, 1000, ErrTimeout, addrA)},
			end: 2500, downtime: 2500 * time.Millisecond,
			gaps: []Gap{{From: at(0), To: at(2500), Errors: 2, Open: true}},
		},
		{
			name: "reads do not close a gap", ops: concat(steady(1, 0, 2, addrA), []Op{{Kind: Read, ID: 2, Invoke: at(300), Return: at(301), Outcome: OK}}, steady(3, 1000, 1, addrA)),
			end: 1100, downtime: 900 * time.Millisecond,
			gaps: []Gap{{From: at(110), To: at(1010), AfterID: 2, BeforeID: 3}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Analyze(tc.ops, t0, at(tc.end), 500*time.Millisecond)
			if s.Downtime != tc.downtime {
				t.Errorf("downtime %v, want %v", s.Downtime, tc.downtime)
			}
			if !reflect.DeepEqual(s.Gaps, tc.gaps) {
				t.Errorf("gaps\n%+v\nwant\n%+v", s.Gaps, tc.gaps)
			}
		})
	}
}

func TestAnalyzeBucketsAndTotals(t *testing.T) {
	ops := concat(
		steady(1, 0, 10, addrA),
		[]Op{w(11, 1000, 5, ErrReadOnly, addrA), w(12, 1100, 5, ErrReadOnly, addrA), w(13, 1200, 1000, ErrTimeout, addrA), w(14, 2300, 2, ErrDNS, "")},
		[]Op{{Kind: Read, ID: 3, Invoke: at(250), Return: at(254), Outcome: OK, Addr: netip.MustParseAddrPort(addrB)}},
		[]Op{{Kind: Read, Invoke: at(1250), Return: at(1260), Outcome: ErrOther, Addr: netip.MustParseAddrPort(addrB)}},
		steady(15, 2400, 6, addrB),
	)
	s := Analyze(ops, t0, at(3500), 500*time.Millisecond)
	want := []Bucket{
		{Start: at(0), Writes: 10, Reads: 1, P50: 10 * time.Millisecond, P99: 10 * time.Millisecond},
		{Start: at(1000), WriteErrors: 2, ReadErrors: 1},
		{Start: at(2000), Writes: 6, WriteErrors: 2, P50: 10 * time.Millisecond, P99: 10 * time.Millisecond},
		{Start: at(3000)},
	}
	if !reflect.DeepEqual(s.Buckets, want) {
		t.Errorf("buckets\n%+v\nwant\n%+v", s.Buckets, want)
	}
	wantWrites := Totals{OK: 16, Errors: map[Outcome]int{ErrReadOnly: 2, ErrTimeout: 1, ErrDNS: 1},
		P50: 10 * time.Millisecond, P99: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	if !reflect.DeepEqual(s.Writes, wantWrites) {
		t.Errorf("writes %+v, want %+v", s.Writes, wantWrites)
	}
	if s.Writes.Failed() != 4 || s.Reads.OK != 1 || s.Reads.Failed() != 1 {
		t.Errorf("failed writes %d, reads ok %d failed %d; want 4, 1, 1", s.Writes.Failed(), s.Reads.OK, s.Reads.Failed())
	}
	if s.Primary != netip.MustParseAddrPort(addrB) || s.LastID != 20 {
		t.Errorf("primary %v, last id %d; want %s, 20", s.Primary, s.LastID, addrB)
	}
}

func TestPercentiles(t *testing.T) {
	var ls []time.Duration
	for i := 100; i >= 1; i-- {
		ls = append(ls, time.Duration(i)*time.Millisecond)
	}
	p50, p99, top := percentiles(ls)
	if p50 != 50*time.Millisecond || p99 != 99*time.Millisecond || top != 100*time.Millisecond {
		t.Errorf("p50 %v p99 %v max %v; want 50ms 99ms 100ms", p50, p99, top)
	}
	if p50, p99, top := percentiles([]time.Duration{7}); p50 != 7 || p99 != 7 || top != 7 {
		t.Errorf("one sample: %v %v %v", p50, p99, top)
	}
}

func TestNextSlot(t *testing.T) {
	every := 50 * time.Millisecond
	for _, tc := range []struct {
		name   string
		now    int
		wantMs int
	}{
		{name: "before the start", now: -10, wantMs: 0},
		{name: "on time", now: 3, wantMs: 50},
		{name: "on a slot", now: 50, wantMs: 100},
		{name: "overran three slots", now: 170, wantMs: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextSlot(t0, at(tc.now), every); !got.Equal(at(tc.wantMs)) {
				t.Errorf("next slot %v, want %v", got.Sub(t0), at(tc.wantMs).Sub(t0))
			}
		})
	}
}

func TestMissing(t *testing.T) {
	if got := missing([]int64{1, 2, 3, 5, 8}, []int64{8, 1, 4, 3}); !reflect.DeepEqual(got, []int64{2, 5}) {
		t.Errorf("missing %v, want [2 5]", got)
	}
	if got := missing([]int64{1}, []int64{1}); got != nil {
		t.Errorf("missing %v, want none", got)
	}
}
