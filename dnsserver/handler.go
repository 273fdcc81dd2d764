package dnsserver

import (
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// SnapshotSource is what a Handler answers from. Implementations must be
// safe for concurrent use and must not block; *Source is one.
type SnapshotSource interface {
	// Snapshot returns the snapshot to answer from, nil when none exists yet.
	Snapshot() *Snapshot
	// Stale reports whether primary names must answer SERVFAIL.
	Stale() bool
}

// Handler answers DNS queries from the snapshot of a SnapshotSource. It is
// a dns.Handler, safe for concurrent use, and never does I/O besides
// writing the answer.
type Handler struct {
	src     SnapshotSource
	metrics *Metrics
	xfr     TransferPolicy
	limit   *rateLimiter // nil: no limit
	tsig    bool         // the server verifies TSIG (see WithTSIG)
}

// NewHandler returns a Handler reading src; m may be nil in tests.
func NewHandler(src SnapshotSource, m *Metrics) *Handler {
	return &Handler{src: src, metrics: m}
}

// WithTransfers returns a copy of h that serves zone transfers over TCP
// under policy p; without it every transfer is refused.
func (h *Handler) WithTransfers(p TransferPolicy) *Handler {
	c := *h
	c.xfr = p
	return &c
}

// WithRateLimit returns a copy of h that answers each client network
// (IPv4 /24, IPv6 /56) at most rate times per second over UDP, in bursts of
// as many; of the queries over the limit every slip-th is answered
// truncated (so a real client retries over TCP) and the others dropped
// (slip 0 drops them all). rate 0 means no limit. TCP is never limited.
func (h *Handler) WithRateLimit(rate, slip int) *Handler {
	c := *h
	c.limit = newRateLimiter(rate, slip, time.Now)
	return &c
}

// Message sizes: RFC 1035 without EDNS, and the DNS Flag Day 2020 ceiling
// for UDP with EDNS (both what we advertise and the most we send).
const (
	minUDPSize  = 512
	maxUDPSize  = 1232
	maxTCPSize  = dns.MaxMsgSize
	hinfoRFC848 = "RFC8482"
)

// ServeDNS answers one query.
func (h *Handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	start := time.Now()
	tcp := false
	if a, ok := w.LocalAddr().(*net.TCPAddr); ok && a != nil {
		tcp = true
	}
	if !tcp && h.limited(w, req) {
		return
	}
	var rcode int
	switch {
	case req.IsTsig() != nil && !req.Response && (!h.tsig || w.TsigStatus() != nil):
		rcode = h.tsigRejected(w, req, tcp)
	case tcp && isTransfer(req):
		rcode = h.transfer(w, req)
	case h.writeCached(w, req, tcp):
		rcode = dns.RcodeSuccess
	default:
		resp := h.Answer(req, tcp)
		if resp == nil {
			return
		}
		_ = w.WriteMsg(signed(resp, req)) // the client is gone: nothing to do
		rcode = resp.Rcode
	}
	if h.metrics != nil {
		qtype := uint16(dns.TypeNone)
		if len(req.Question) > 0 {
			qtype = req.Question[0].Qtype
		}
		h.metrics.observe(qtype, rcode, tcp, time.Since(start))
	}
}

// Answer builds the response to req as it would be sent over TCP or UDP,
// already fitted to the size the transport allows; nil means no response
// (req is itself a response).
func (h *Handler) Answer(req *dns.Msg, tcp bool) *dns.Msg {
	return answer(h.src, req, tcp)
}

// answer is Answer from src.
func answer(src SnapshotSource, req *dns.Msg, tcp bool) *dns.Msg {
	if req.Response {
		return nil
	}
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: req.Id, Response: true, Opcode: req.Opcode,
		RecursionDesired: req.RecursionDesired, CheckingDisabled: req.CheckingDisabled}, Compress: true}
	m.Question = append([]dns.Question(nil), req.Question...)
	limit := maxTCPSize
	var opts []*dns.OPT
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			opts = append(opts, o)
		}
	}
	if len(opts) > 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	if len(opts) == 1 {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.SetUDPSize(maxUDPSize)
		o.SetDo(opts[0].Do())
		m.Extra = []dns.RR{o}
		if !tcp {
			limit = int(min(max(opts[0].UDPSize(), minUDPSize), maxUDPSize))
		}
		if opts[0].Version() != 0 {
			m.Rcode = dns.RcodeBadVers
			return m
		}
	} else if !tcp {
		limit = minUDPSize
	}
	switch {
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
		return m
	case len(req.Question) != 1 || len(req.Answer) != 0 || len(req.Ns) != 0:
		m.Rcode = dns.RcodeFormatError
		return m
	}
	resolve(src, m, req.Question[0])
	fit(m, limit-tsigLen(req))
	return m
}

// resolve fills rcode and sections for one question.
func resolve(src SnapshotSource, m *dns.Msg, q dns.Question) {
	snap := src.Snapshot()
	if snap == nil {
		m.Rcode = dns.RcodeServerFailure
		return
	}
	if q.Qclass != dns.ClassINET {
		m.Rcode = dns.RcodeRefused
		return
	}
	nd, res := snap.lookup(strings.ToLower(q.Name))
	if res == outOfZone {
		m.Rcode = dns.RcodeRefused
		return
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		m.Rcode = dns.RcodeRefused // zone transfers run over TCP only
		return
	}
	if nd != nil && nd.primary && src.Stale() {
		m.Rcode = dns.RcodeServerFailure
		return
	}
	m.Authoritative = true
	if res == found {
		m.Answer = snap.answer(nd, q)
	}
	if len(m.Answer) > 0 {
		m.Extra = append(snap.additional(nd, q.Qtype), m.Extra...)
		return
	}
	if res == nxdomain {
		m.Rcode = dns.RcodeNameError
	}
	m.Ns = []dns.RR{snap.soa(true)}
}

// fit makes m fit in limit bytes: it drops additional records from the end
// (keeping the OPT record) while that suffices; otherwise it sets TC and
// keeps only the question and the OPT record, so the client retries over
// TCP (RFC 2181 section 9, RFC 7766).
func fit(m *dns.Msg, limit int) {
	if m.Len() <= limit {
		return
	}
	var opt []dns.RR
	var extra []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			opt = append(opt, rr)
		} else {
			extra = append(extra, rr)
		}
	}
	for len(extra) > 0 {
		extra = extra[:len(extra)-1]
		m.Extra = append(append([]dns.RR(nil), extra...), opt...)
		if m.Len() <= limit {
			return
		}
	}
	m.Truncated = true
	m.Answer, m.Ns, m.Extra = nil, nil, opt
}

// isTransfer reports whether req is a well-formed AXFR or IXFR query.
func isTransfer(req *dns.Msg) bool {
	return !req.Response && req.Opcode == dns.OpcodeQuery && len(req.Question) == 1 &&
		req.Question[0].Qclass == dns.ClassINET &&
		(req.Question[0].Qtype == dns.TypeAXFR || req.Question[0].Qtype == dns.TypeIXFR)
}

func qtypeLabel(t uint16) string {
	switch t {
	case dns.TypeNone:
		return "none"
	case dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT, dns.TypeSOA, dns.TypeNS,
		dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypePTR, dns.TypeMX, dns.TypeCNAME:
		return dns.TypeToString[t]
	}
	return "other"
}
