package dnsserver

import (
	"net/netip"
	"strings"
	"sync/atomic"
)

// SRV priorities by role and weights by locality, as docs/dns.md describes.
const (
	PriorityPrimary = 0
	PrioritySync    = 10
	PriorityAsync   = 20
	WeightLocal     = 100
	WeightRemote    = 10
)

// Snapshot is an immutable view of the zone at one etcd revision. Every
// method is safe for concurrent use; a new revision is a new Snapshot that
// shares the unchanged services with its predecessor.
type Snapshot struct {
	zone       *zoneInfo
	revision   int64
	services   map[serviceID]*serviceSet
	namespaces map[string]int // services that own names, per namespace, for empty non-terminals
}

// zoneInfo is the part of Config a snapshot needs, in wire units.
type zoneInfo struct {
	origin      string
	region      string
	ttl         uint32
	negativeTTL uint32
	nameServers []NameServer
	hostmaster  string
	apex        map[string]*node // in-zone name-server hosts, by relative name
	apexENT     map[string]bool
}

type serviceID struct{ ns, svc string }

// serviceSet is one service's records and the names built from them.
type serviceSet struct {
	service  *Service
	primary  *Primary
	replicas map[int]Replica
	names    map[string]*node // by the labels left of <svc>.<ns>.svc, "" for the service name
	ents     map[string]bool
}

// node holds the records of one owner name in compact form, and the
// packed positive answers built from them on first use (see wire.go).
type node struct {
	addrs   []netip.Addr
	srvs    []srvTarget
	txt     []string
	primary bool // depends on the primary: SERVFAIL while the watch is lost
	apex    bool
	wire    [wireSlots]atomic.Pointer[[]byte]
}

type srvTarget struct {
	priority, weight, port uint16
	target                 string
	addrs                  []netip.Addr
}

// Revision is the etcd revision the snapshot reflects.
func (s *Snapshot) Revision() int64 { return s.revision }

// Serial is the SOA serial: SerialOf(Revision()).
func (s *Snapshot) Serial() uint32 { return SerialOf(s.revision) }

// Origin is the zone served.
func (s *Snapshot) Origin() string { return s.zone.origin }

// Services is the number of services in the snapshot.
func (s *Snapshot) Services() int { return len(s.services) }

// lookupResult says what the zone holds at a name.
type lookupResult int

const (
	outOfZone lookupResult = iota
	nxdomain
	emptyNonTerminal
	found
)

// lookup finds the node of a lower-case fully qualified name. It walks the
// name from the right without allocating: it runs for every query.
func (s *Snapshot) lookup(name string) (*node, lookupResult) {
	head, ok := relativeName(s.zone.origin, name)
	switch {
	case !ok:
		return nil, outOfZone
	case head == "":
		return &node{apex: true}, found
	}
	rest, last := cutLastLabel(head)
	switch {
	case last != "svc":
		if nd := s.zone.apex[head]; nd != nil {
			return nd, found
		}
		if s.zone.apexENT[head] {
			return nil, emptyNonTerminal
		}
		return nil, nxdomain
	case rest == "": // svc.<zone>
		if len(s.namespaces) > 0 {
			return nil, emptyNonTerminal
		}
		return nil, nxdomain
	}
	rest, ns := cutLastLabel(rest)
	if rest == "" { // <ns>.svc.<zone>
		if s.namespaces[ns] > 0 {
			return nil, emptyNonTerminal
		}
		return nil, nxdomain
	}
	key, svc := cutLastLabel(rest)
	set := s.services[serviceID{ns: ns, svc: svc}]
	if set == nil {
		return nil, nxdomain
	}
	if nd := set.names[key]; nd != nil {
		return nd, found
	}
	if set.ents[key] {
		return nil, emptyNonTerminal
	}
	return nil, nxdomain
}

// relativeName returns the part of the fully qualified name left of zone,
// without the dot between them ("" at the apex); ok is false when name is
// not in zone.
func relativeName(zone, name string) (string, bool) {
	switch {
	case name == zone:
		return "", true
	case zone == ".":
		return name[:len(name)-1], len(name) > 1 && name[len(name)-1] == '.'
	}
	i := len(name) - len(zone) - 1
	if i < 1 || name[i] != '.' || name[i+1:] != zone {
		return "", false
	}
	return name[:i], true
}

// cutLastLabel splits "a.b.c" into "a.b" and "c"; a single label gives ""
// and the label.
func cutLastLabel(s string) (rest, last string) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}
