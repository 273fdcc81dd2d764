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
	soa := snap.soa(false)
	var records []dns.RR
	if req.Question[0].Qtype == dns.TypeIXFR && clientCurrent(req, snap.Serial()) {
		records = []dns.RR{soa}
	} else {
		records = append(snap.Records(), soa)
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

// clientCurrent reports whether an IXFR's authority SOA is not older than serial.
func clientCurrent(req *dns.Msg, serial uint32) bool {
	for _, rr := range req.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return !SerialLess(soa.Serial, serial)
		}
	}
	return false
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
		set := s.services[id]
		base := id.svc + "." + id.ns + ".svc." + z.origin
		for _, rel := range slices.Sorted(maps.Keys(set.names)) {
			owner := base
			if rel != "" {
				owner = rel + "." + base
			}
			out = append(out, nodeRecords(owner, z.ttl, set.names[rel])...)
		}
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
