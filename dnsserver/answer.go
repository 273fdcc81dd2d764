package dnsserver

import (
	"net/netip"

	"github.com/miekg/dns"
)

// SOA timers offered to secondaries. Changes are pushed by serial (and by
// NOTIFY once zone transfer exists), so refresh can be modest.
const (
	soaRefresh = 60
	soaRetry   = 10
	soaExpire  = 3600
)

// answer returns the records of node nd for question q; the owner name is
// the question's name as received, so compression points at the question.
func (s *Snapshot) answer(nd *node, q dns.Question) []dns.RR {
	ttl := s.zone.ttl
	switch q.Qtype {
	case dns.TypeA, dns.TypeAAAA:
		v4, v6 := addrsOf(nd.addrs)
		if q.Qtype == dns.TypeA {
			return addrRRs(q.Name, ttl, v4)
		}
		return addrRRs(q.Name, ttl, v6)
	case dns.TypeSRV:
		out := make([]dns.RR, 0, len(nd.srvs))
		for _, t := range nd.srvs {
			out = append(out, &dns.SRV{Hdr: hdr(q.Name, dns.TypeSRV, ttl),
				Priority: t.priority, Weight: t.weight, Port: t.port, Target: t.target})
		}
		return out
	case dns.TypeTXT:
		if len(nd.txt) == 0 {
			return nil
		}
		return []dns.RR{&dns.TXT{Hdr: hdr(q.Name, dns.TypeTXT, ttl), Txt: nd.txt}}
	case dns.TypeSOA:
		if nd.apex {
			soa := s.soa(false)
			soa.Header().Name = q.Name
			return []dns.RR{soa}
		}
	case dns.TypeNS:
		if nd.apex {
			out := make([]dns.RR, 0, len(s.zone.nameServers))
			for _, ns := range s.zone.nameServers {
				out = append(out, &dns.NS{Hdr: hdr(q.Name, dns.TypeNS, ttl), Ns: ns.Host})
			}
			return out
		}
	case dns.TypeANY:
		// RFC 8482: one small synthesised record instead of everything.
		if nd.apex || len(nd.addrs) > 0 || len(nd.srvs) > 0 || len(nd.txt) > 0 {
			return []dns.RR{&dns.HINFO{Hdr: hdr(q.Name, dns.TypeHINFO, ttl), Cpu: hinfoRFC848}}
		}
	}
	return nil
}

// additional returns the A/AAAA records of SRV targets and in-zone name
// servers, in answer order; fit drops those that do not fit.
func (s *Snapshot) additional(nd *node, qtype uint16) []dns.RR {
	var out []dns.RR
	ttl := s.zone.ttl
	switch {
	case qtype == dns.TypeSRV:
		for _, t := range nd.srvs {
			v4, v6 := addrsOf(t.addrs)
			out = append(append(out, addrRRs(t.target, ttl, v4)...), addrRRs(t.target, ttl, v6)...)
		}
	case qtype == dns.TypeNS && nd.apex:
		for _, ns := range s.zone.nameServers {
			if _, in := relativeLabels(s.zone.origin, ns.Host); in {
				v4, v6 := addrsOf(ns.Addrs)
				out = append(append(out, addrRRs(ns.Host, ttl, v4)...), addrRRs(ns.Host, ttl, v6)...)
			}
		}
	}
	return out
}

// soa returns the zone's SOA; for a negative answer its TTL is
// min(TTL, MINIMUM) as RFC 2308 section 3 requires.
func (s *Snapshot) soa(negative bool) dns.RR {
	z := s.zone
	ttl := z.ttl
	if negative {
		ttl = min(z.ttl, z.negativeTTL)
	}
	return &dns.SOA{Hdr: hdr(z.origin, dns.TypeSOA, ttl), Ns: z.nameServers[0].Host, Mbox: z.hostmaster,
		Serial: s.Serial(), Refresh: soaRefresh, Retry: soaRetry, Expire: soaExpire, Minttl: z.negativeTTL}
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func addrRRs(name string, ttl uint32, addrs []netip.Addr) []dns.RR {
	out := make([]dns.RR, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4() {
			out = append(out, &dns.A{Hdr: hdr(name, dns.TypeA, ttl), A: a.AsSlice()})
		} else {
			out = append(out, &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA, ttl), AAAA: a.AsSlice()})
		}
	}
	return out
}
