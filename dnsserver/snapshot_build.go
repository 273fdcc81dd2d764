package dnsserver

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Change is one etcd key's new state, as a range read or a watch event
// reports it.
type Change struct {
	// Key is the full etcd key.
	Key string
	// Value is the stored value; ignored when Deleted.
	Value []byte
	// Deleted is true for a delete event.
	Deleted bool
}

// NewSnapshot returns the empty snapshot of cfg's zone at revision 0; build
// the real one with Apply. cfg must be valid.
func NewSnapshot(cfg Config) *Snapshot {
	z := &zoneInfo{
		origin: cfg.Zone, region: cfg.Region, hostmaster: cfg.Hostmaster,
		ttl: uint32(cfg.TTL.Seconds()), negativeTTL: uint32(cfg.NegativeTTL.Seconds()),
		nameServers: cfg.NameServers, apex: map[string]*node{}, apexENT: map[string]bool{},
	}
	for _, ns := range cfg.NameServers {
		rel, in := relativeLabels(cfg.Zone, ns.Host)
		if !in || len(rel) == 0 {
			continue
		}
		key := strings.Join(rel, ".")
		nd := z.apex[key]
		if nd == nil {
			nd = &node{}
			z.apex[key] = nd
		}
		nd.addrs = append(nd.addrs, ns.Addrs...)
		for i := 1; i < len(rel); i++ {
			z.apexENT[strings.Join(rel[i:], ".")] = true
		}
	}
	return &Snapshot{zone: z, services: map[serviceID]*serviceSet{}, namespaces: map[string]int{}}
}

// Apply returns the snapshot at revision rev after changes, rebuilding only
// the services the changes touch; s is not modified. Keys outside the
// layout and values that do not decode are reported in the returned errors
// and leave their record absent (never a stale or guessed record).
func (s *Snapshot) Apply(rev int64, prefix string, changes []Change) (*Snapshot, []error) {
	next := *s
	next.revision = rev
	if len(changes) == 0 {
		return &next, nil
	}
	var errs []error
	touched := map[serviceID]*serviceSet{}
	for _, c := range changes {
		k, err := ParseEtcdKey(prefix, c.Key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		id := serviceID{ns: k.Namespace, svc: k.Service}
		set := touched[id]
		if set == nil {
			set = s.services[id].clone()
			touched[id] = set
		}
		if err := set.apply(k, c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Key, err))
		}
	}
	next.services = maps.Clone(s.services)
	next.namespaces = maps.Clone(s.namespaces)
	for id, set := range touched {
		before := s.services[id].visible()
		if set.empty() {
			delete(next.services, id)
		} else {
			set.build(s.zone, id)
			next.services[id] = set
		}
		switch after := set.visible(); {
		case after && !before:
			next.namespaces[id.ns]++
		case before && !after:
			next.namespaces[id.ns]--
			if next.namespaces[id.ns] == 0 {
				delete(next.namespaces, id.ns)
			}
		}
	}
	return &next, errs
}

// visible reports whether the service owns any name in the zone: a
// service whose records give no DNS record (ports but no replica, say)
// is kept for its records but its names do not exist.
func (set *serviceSet) visible() bool {
	return set != nil && len(set.names) > 0
}

// clone copies the records (not the names) of a service; nil gives an empty set.
func (set *serviceSet) clone() *serviceSet {
	if set == nil {
		return &serviceSet{replicas: map[int]Replica{}}
	}
	return &serviceSet{service: set.service, primary: set.primary, replicas: maps.Clone(set.replicas)}
}

func (set *serviceSet) empty() bool {
	return set.service == nil && set.primary == nil && len(set.replicas) == 0
}

// apply sets or clears one record; a value that does not decode clears it.
func (set *serviceSet) apply(k Key, c Change) error {
	var err error
	switch k.Kind {
	case KindService:
		set.service = nil
		if !c.Deleted {
			var v Service
			if v, err = DecodeService(c.Value); err == nil {
				set.service = &v
			}
		}
	case KindPrimary:
		set.primary = nil
		if !c.Deleted {
			var v Primary
			if v, err = DecodePrimary(c.Value); err == nil {
				set.primary = &v
			}
		}
	case KindReplica:
		delete(set.replicas, k.Ordinal)
		if !c.Deleted {
			var v Replica
			if v, err = DecodeReplica(c.Value); err == nil {
				set.replicas[k.Ordinal] = v
			}
		}
	}
	return err
}

// build computes the names of a service from its records. Only names that
// own records are nodes; the names above them are empty non-terminals. So
// the names that exist are exactly those a zone transfer implies, and a
// secondary answers NXDOMAIN and NODATA as we do.
func (set *serviceSet) build(z *zoneInfo, id serviceID) {
	set.names, set.ents = map[string]*node{}, map[string]bool{}
	defer set.nonTerminals()
	base := id.svc + "." + id.ns + ".svc." + z.origin
	ordinals := slices.Sorted(maps.Keys(set.replicas))
	primary := -1
	if set.primary != nil {
		primary = set.primary.Ordinal
	}
	all := &node{}
	var targets []srvTarget
	var primaryTarget *srvTarget
	for _, n := range ordinals {
		r := set.replicas[n]
		label := replicaLabel(id.svc, n)
		set.add(label, &node{addrs: r.Addresses})
		set.add(label+"."+r.Cluster, &node{addrs: r.Addresses})
		t := srvTarget{priority: priorityOf(r.Role), weight: WeightRemote, target: label + "." + base, addrs: r.Addresses}
		if r.Region == z.region {
			t.weight = WeightLocal
		}
		if n == primary {
			t.priority = PriorityPrimary
			primaryTarget = &t
		}
		if r.Ready && (r.Role != RoleFenced || n == primary) && len(r.Addresses) > 0 {
			all.addrs = append(all.addrs, r.Addresses...)
			targets = append(targets, t)
		}
	}
	slices.SortStableFunc(targets, func(a, b srvTarget) int { return int(a.priority) - int(b.priority) })
	set.add("", all)
	if set.primary != nil {
		p := &node{primary: true, txt: []string{fmt.Sprintf("epoch=%d", set.primary.Epoch), fmt.Sprintf("ordinal=%d", primary)}}
		if primaryTarget != nil {
			p.addrs = primaryTarget.addrs
		}
		set.add("primary", p)
	}
	if set.service == nil {
		return
	}
	for _, port := range set.service.Ports {
		name := "_" + port.Name + "._" + port.Protocol
		set.add(name, &node{srvs: withPort(targets, port.Port)})
		if set.primary != nil && primaryTarget != nil && len(primaryTarget.addrs) > 0 {
			set.add(name+".primary", &node{primary: true, srvs: withPort([]srvTarget{*primaryTarget}, port.Port)})
		}
	}
}

// add makes nd the node of key (relative to the service name) if it owns
// any record.
func (set *serviceSet) add(key string, nd *node) {
	if len(nd.addrs) > 0 || len(nd.srvs) > 0 || len(nd.txt) > 0 {
		set.names[key] = nd
	}
}

// nonTerminals marks every name between the service name and a node,
// and the service name itself, as an empty non-terminal unless it is a
// node.
func (set *serviceSet) nonTerminals() {
	for key := range set.names {
		for rest := key; rest != ""; {
			_, rest, _ = strings.Cut(rest, ".")
			if set.names[rest] == nil {
				set.ents[rest] = true
			}
		}
	}
}

func priorityOf(r Role) uint16 {
	if r == RoleSyncStandby {
		return PrioritySync
	}
	return PriorityAsync
}

func withPort(ts []srvTarget, port uint16) []srvTarget {
	out := make([]srvTarget, len(ts))
	for i, t := range ts {
		t.port = port
		out[i] = t
	}
	return out
}

// addrsOf splits addresses into IPv4 and IPv6.
func addrsOf(addrs []netip.Addr) (v4, v6 []netip.Addr) {
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return v4, v6
}
