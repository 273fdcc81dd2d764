package dnsserver

import (
	"cmp"
	"maps"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// TransferPolicy says who may transfer the zone (AXFR, IXFR).
type TransferPolicy struct {
	// Allow are the client networks allowed; empty allows nobody.
	Allow []netip.Prefix
	// RequireTSIG refuses transfers that are not signed with a key the
	// dns.Server knows (its TsigSecret).
	RequireTSIG bool
}

// allowed reports whether a transfer request from w may proceed.
func (p TransferPolicy) allowed(w dns.ResponseWriter, req *dns.Msg) bool {
	addr, ok := w.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, _ := netip.AddrFromSlice(addr.IP)
	ip = ip.Unmap()
	in := false
	for _, pfx := range p.Allow {
		in = in || pfx.Contains(ip)
	}
	if !in {
		return false
	}
	if p.RequireTSIG {
		return req.IsTsig() != nil && w.TsigStatus() == nil
	}
	return req.IsTsig() == nil || w.TsigStatus() == nil
}

// transferBatch is how many records go into one message of a transfer;
// uncompressed SRV records stay far below 64 KiB this way.
const transferBatch = 200

// transfer answers AXFR, and IXFR (RFC 1995) with either the lone SOA when
// the client is current or the full zone, over TCP.
func (h *Handler) transfer(w dns.ResponseWriter, req *dns.Msg) int {
	snap := h.src.Snapshot()
	refuse := func(rcode int) int {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		if t := req.IsTsig(); t != nil && w.TsigStatus() == nil {
			m.SetTsig(t.Hdr.Name, t.Algorithm, t.Fudge, time.Now().Unix()) // signed by WriteMsg
		}
		_ = w.WriteMsg(m)
		return rcode
	}
	switch {
	case !h.xfr.allowed(w, req):
		return refuse(dns.RcodeRefused)
	case snap == nil || h.src.Stale():
		return refuse(dns.RcodeServerFailure) // never hand out a possibly stale primary
	case dns.CanonicalName(req.Question[0].Name) != snap.Origin():
		return refuse(dns.RcodeNotAuth) // not a zone this server serves
	}
	records, content := h.transferRecords(snap, req)
	if h.metrics != nil {
		h.metrics.transfers.WithLabelValues(dns.TypeToString[req.Question[0].Qtype], content).Inc()
	}
	ch := make(chan *dns.Envelope)
	tr := new(dns.Transfer)
	errc := make(chan error, 1)
	go func() { errc <- tr.Out(w, req, ch) }()
	for chunk := range slices.Chunk(records, transferBatch) {
		ch <- &dns.Envelope{RR: chunk}
	}
	close(ch)
	<-errc // an error means the client went away: nothing to do
	return dns.RcodeSuccess
}

// Contents of a zone transfer, as fedstate_dns_transfers_total counts them.
const (
	transferZone        = "zone"        // the whole zone (AXFR, or IXFR falling back to it)
	transferDifferences = "differences" // an IXFR difference sequence from the journal
	transferCurrent     = "current"     // the lone SOA: the IXFR client is up to date
)

// transferRecords returns the records to send for a transfer request and
// what they are: for IXFR (RFC 1995) the lone SOA when the client is up to
// date, the differences from the client's serial when the journal still
// knows that version, else the whole zone, as for AXFR.
func (h *Handler) transferRecords(snap *Snapshot, req *dns.Msg) ([]dns.RR, string) {
	full := func() ([]dns.RR, string) { return append(snap.Records(), snap.soa(false)), transferZone }
	if req.Question[0].Qtype != dns.TypeIXFR {
		return full()
	}
	serial, ok := ixfrSerial(req)
	if !ok {
		return full()
	}
	if serial == snap.Serial() || SerialLess(snap.Serial(), serial) {
		return []dns.RR{snap.soa(false)}, transferCurrent
	}
	j, ok := h.src.(Journal)
	if !ok {
		return full()
	}
	rev, ok := revisionOf(snap, serial)
	if !ok {
		return full()
	}
	base := j.At(rev)
	if base == nil {
		return full()
	}
	return snap.ixfr(base, serial), transferDifferences
}

// ixfrSerial returns the serial of an IXFR's authority SOA.
func ixfrSerial(req *dns.Msg) (uint32, bool) {
	for _, rr := range req.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, true
		}
	}
	return 0, false
}

// Records returns every record of the zone in a canonical order: SOA, NS,
// name-server addresses, then each service (by namespace and name) with its
// names in order and their A, AAAA, SRV and TXT records. Owner names are
// lower case.
func (s *Snapshot) Records() []dns.RR {
	z := s.zone
	out := []dns.RR{s.soa(false)}
	for _, ns := range z.nameServers {
		out = append(out, &dns.NS{Hdr: hdr(z.origin, dns.TypeNS, z.ttl), Ns: ns.Host})
	}
	for _, rel := range slices.Sorted(maps.Keys(z.apex)) {
		out = append(out, nodeRecords(rel+"."+z.origin, z.ttl, z.apex[rel])...)
	}
	ids := slices.SortedFunc(maps.Keys(s.services), func(a, b serviceID) int {
		return cmp.Or(cmp.Compare(a.ns, b.ns), cmp.Compare(a.svc, b.svc))
	})
	for _, id := range ids {
		out = append(out, serviceRecords(z, id, s.services[id])...)
	}
	return out
}

// serviceRecords returns the records of one service, names in order; none
// for a nil set.
func serviceRecords(z *zoneInfo, id serviceID, set *serviceSet) []dns.RR {
	if set == nil {
		return nil
	}
	var out []dns.RR
	base := id.svc + "." + id.ns + ".svc." + z.origin
	for _, rel := range slices.Sorted(maps.Keys(set.names)) {
		owner := base
		if rel != "" {
			owner = rel + "." + base
		}
		out = append(out, nodeRecords(owner, z.ttl, set.names[rel])...)
	}
	return out
}

func nodeRecords(owner string, ttl uint32, nd *node) []dns.RR {
	v4, v6 := addrsOf(nd.addrs)
	out := append(addrRRs(owner, ttl, v4), addrRRs(owner, ttl, v6)...)
	for _, t := range nd.srvs {
		out = append(out, &dns.SRV{Hdr: hdr(owner, dns.TypeSRV, ttl), Priority: t.priority, Weight: t.weight, Port: t.port, Target: t.target})
	}
	if len(nd.txt) > 0 {
		out = append(out, &dns.TXT{Hdr: hdr(owner, dns.TypeTXT, ttl), Txt: nd.txt})
	}
	return out
}
