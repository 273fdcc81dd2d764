package dnsserver

import (
	"cmp"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Journal gives IXFR the earlier versions of the zone. A SnapshotSource
// that also implements it (*Source does) lets the Handler answer IXFR with
// the differences since the client's serial instead of the whole zone.
type Journal interface {
	// At returns the snapshot whose records are those of etcd revision rev,
	// or nil when that version is no longer (or was never) known. It must
	// be safe for concurrent use and must not block.
	At(rev int64) *Snapshot
}

// journal keeps the snapshots of the last record changes. Snapshots share
// the services that did not change, so an entry costs about the records
// its change replaced. Writers are serialised by the caller; readers are
// lock-free.
type journal struct {
	size    int // record changes kept
	entries atomic.Pointer[[]journalEntry]
}

// journalEntry is one version of the records.
type journalEntry struct {
	// snap holds the records; they are those of every revision from
	// snap.Revision() up to, not including, until.
	snap *Snapshot
	// until is the revision of the next change; 0 while snap is the
	// latest version.
	until int64
}

// reset starts the journal over at snap, after a full load whose
// differences from the versions before are unknown.
func (j *journal) reset(snap *Snapshot) {
	j.entries.Store(&[]journalEntry{{snap: snap}})
}

// add records snap as the latest version; first is the revision of its
// earliest change, where the previous version ends.
func (j *journal) add(snap *Snapshot, first int64) {
	var next []journalEntry
	if old := j.entries.Load(); old != nil {
		next = slices.Clone(*old)
		next[len(next)-1].until = first
	}
	next = append(next, journalEntry{snap: snap})
	if len(next) > j.size+1 {
		next = slices.Clone(next[len(next)-j.size-1:])
	}
	j.entries.Store(&next)
}

// at returns the version of the records at revision rev, nil if unknown.
func (j *journal) at(rev int64) *Snapshot {
	entries := j.entries.Load()
	if entries == nil {
		return nil
	}
	for i := len(*entries) - 1; i >= 0; i-- {
		e := (*entries)[i]
		if e.snap.Revision() <= rev && (e.until == 0 || rev < e.until) {
			return e.snap
		}
	}
	return nil
}

// revisionOf returns the etcd revision of serial as seen from cur: the
// latest revision not after cur's whose serial it is. ok is false for a
// serial after cur's or too far behind to tell.
func revisionOf(cur *Snapshot, serial uint32) (int64, bool) {
	if serial != cur.Serial() && !SerialLess(serial, cur.Serial()) {
		return 0, false
	}
	rev := cur.Revision() - int64(cur.Serial()-serial)
	return rev, rev >= 0
}

// ixfr returns the records of an incremental transfer from base, whose
// records the client holds at serial, to s (RFC 1995 section 4, condensed
// into one difference sequence): the new SOA, the old SOA, the deleted
// records, the new SOA, the added records, the new SOA.
func (s *Snapshot) ixfr(base *Snapshot, serial uint32) []dns.RR {
	deleted, added := s.differences(base)
	soa := s.soa(false)
	old := s.soa(false).(*dns.SOA)
	old.Serial = serial
	out := make([]dns.RR, 0, len(deleted)+len(added)+4)
	out = append(append(out, soa, old), deleted...)
	out = append(append(out, soa), added...)
	return append(out, soa)
}

// differences returns the records of base that s no longer has and those
// s has that base had not, comparing only the services whose records were
// rebuilt in between.
func (s *Snapshot) differences(base *Snapshot) (deleted, added []dns.RR) {
	ids := map[serviceID]bool{}
	for id, set := range s.services {
		if base.services[id] != set {
			ids[id] = true
		}
	}
	for id, set := range base.services {
		if s.services[id] != set {
			ids[id] = true
		}
	}
	for _, id := range slices.SortedFunc(maps.Keys(ids), func(a, b serviceID) int {
		return cmp.Or(cmp.Compare(a.ns, b.ns), cmp.Compare(a.svc, b.svc))
	}) {
		before := serviceRecords(s.zone, id, base.services[id])
		after := serviceRecords(s.zone, id, s.services[id])
		count := map[string]int{}
		for _, rr := range before {
			count[rr.String()]++
		}
		for _, rr := range after {
			if k := rr.String(); count[k] > 0 {
				count[k]--
			} else {
				added = append(added, rr)
			}
		}
		for _, rr := range before {
			if k := rr.String(); count[k] > 0 {
				count[k]--
				deleted = append(deleted, rr)
			}
		}
	}
	return deleted, added
}
