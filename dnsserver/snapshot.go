package dnsserver

import (
	"net/netip"
	"strings"
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
	namespaces map[string]int // services per namespace, for empty non-terminals
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

// node holds the records of one owner name in compact form.
type node struct {
	addrs   []netip.Addr
	srvs    []srvTarget
	txt     []string
	primary bool // depends on the primary: SERVFAIL while the watch is lost
	apex    bool
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

// lookup finds the node of a lower-case fully qualified name.
func (s *Snapshot) lookup(name string) (*node, lookupResult) {
	rel, ok := relativeLabels(s.zone.origin, name)
	if !ok {
		return nil, outOfZone
	}
	n := len(rel)
	switch {
	case n == 0:
		return &node{apex: true}, found
	case rel[n-1] != "svc":
		key := strings.Join(rel, ".")
		if nd := s.zone.apex[key]; nd != nil {
			return nd, found
		}
		if s.zone.apexENT[key] {
			return nil, emptyNonTerminal
		}
		return nil, nxdomain
	case n == 1:
		if len(s.services) > 0 {
			return nil, emptyNonTerminal
		}
		return nil, nxdomain
	case n == 2:
		if s.namespaces[rel[0]] > 0 {
			return nil, emptyNonTerminal
		}
		return nil, nxdomain
	}
	set := s.services[serviceID{ns: rel[n-2], svc: rel[n-3]}]
	if set == nil {
		return nil, nxdomain
	}
	key := strings.Join(rel[:n-3], ".")
	if nd := set.names[key]; nd != nil {
		return nd, found
	}
	if set.ents[key] {
		return nil, emptyNonTerminal
	}
	return nil, nxdomain
}
