package dnsserver

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func TestJournalVersions(t *testing.T) {
	cfg := DefaultConfig()
	snap := func(rev int64) *Snapshot {
		s, _ := NewSnapshot(cfg).Apply(rev, cfg.Prefix, nil)
		return s
	}
	s10, s15, s20 := snap(10), snap(15), snap(20)
	j := &journal{size: 2}
	if got := j.at(10); got != nil {
		t.Fatalf("empty journal: at(10) = %v", got.Revision())
	}
	j.reset(s10)   // full load at 10
	j.add(s15, 13) // a change at 13 seen in the response at 15
	j.add(s20, 18)
	for _, tc := range []struct {
		rev  int64
		want *Snapshot
	}{
		{rev: 9}, {rev: 10, want: s10}, {rev: 12, want: s10}, {rev: 13}, {rev: 14},
		{rev: 15, want: s15}, {rev: 17, want: s15}, {rev: 18}, {rev: 20, want: s20}, {rev: 99, want: s20},
	} {
		if got := j.at(tc.rev); got != tc.want {
			t.Errorf("at(%d) = %v, want %v", tc.rev, got, tc.want)
		}
	}
	j.add(snap(25), 25) // three changes kept: s10 leaves
	if got := j.at(10); got != nil {
		t.Errorf("at(10) after s10 left the journal: %v", got.Revision())
	}
	if got := j.at(15); got != s15 {
		t.Errorf("at(15) = %v, want s15", got)
	}
	j.reset(s20)
	if got := j.at(15); got != nil {
		t.Errorf("at(15) after a reset: %v", got.Revision())
	}
}

func TestRevisionOfSerial(t *testing.T) {
	cfg := DefaultConfig()
	cur, _ := NewSnapshot(cfg).Apply(1<<32+5, cfg.Prefix, nil) // serial 5
	for _, tc := range []struct {
		name   string
		serial uint32
		rev    int64
		ok     bool
	}{
		{name: "current", serial: 5, rev: 1<<32 + 5, ok: true},
		{name: "behind", serial: 3, rev: 1<<32 + 3, ok: true},
		{name: "behind across the wrap", serial: 0xfffffffe, rev: 1<<32 - 2, ok: true},
		{name: "ahead", serial: 6},
		{name: "half the space away", serial: 5 + 1<<31},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rev, ok := revisionOf(cur, tc.serial)
			if ok != tc.ok || (ok && rev != tc.rev) {
				t.Errorf("revisionOf(serial %d) = %d, %v; want %d, %v", tc.serial, rev, ok, tc.rev, tc.ok)
			}
		})
	}
}

// TestIXFRDifferencesApply builds a history of random changes and checks,
// for many pairs of versions, that deleting and adding the differences
// turns the older zone into the newer one, record for record.
func TestIXFRDifferencesApply(t *testing.T) {
	cfg := DefaultConfig()
	rng := rand.New(rand.NewPCG(3, 4))
	versions := []*Snapshot{NewSnapshot(cfg)}
	for step := range 200 {
		var batch []Change
		for range 1 + rng.IntN(4) {
			batch = append(batch, randomChange(rng))
		}
		next, _ := versions[len(versions)-1].Apply(int64(step+1), cfg.Prefix, batch)
		versions = append(versions, next)
	}
	for range 300 {
		i := rng.IntN(len(versions))
		k := i + rng.IntN(len(versions)-i)
		from, to := versions[i], versions[k]
		zone := map[string]int{}
		for _, rr := range from.Records()[1:] { // without the SOA
			zone[rr.String()]++
		}
		deleted, added := to.differences(from)
		for _, rr := range deleted {
			if zone[rr.String()] == 0 {
				t.Fatalf("%d -> %d: deletes %s, which %d does not hold", i, k, rr, i)
			}
			zone[rr.String()]--
		}
		for _, rr := range added {
			zone[rr.String()]++
		}
		want := map[string]int{}
		for _, rr := range to.Records()[1:] {
			want[rr.String()]++
		}
		for rr, n := range zone {
			if want[rr] != n {
				t.Fatalf("%d -> %d: %q %d times after the differences, %d in the newer zone", i, k, rr, n, want[rr])
			}
		}
		for rr, n := range want {
			if zone[rr] != n {
				t.Fatalf("%d -> %d: %q missing after the differences (%d)", i, k, rr, n)
			}
		}
		ixfr := to.ixfr(from, from.Serial())
		soas := slices.IndexFunc(ixfr[1:], func(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypeSOA })
		if len(ixfr) != len(deleted)+len(added)+4 || ixfr[1].(*dns.SOA).Serial != from.Serial() ||
			ixfr[0].(*dns.SOA).Serial != to.Serial() || (len(deleted) > 0 && soas != 1) {
			t.Fatalf("%d -> %d: IXFR framing wrong: %v", i, k, ixfr)
		}
	}
}
