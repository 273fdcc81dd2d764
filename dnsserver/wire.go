package dnsserver

import (
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Positive answers to the common questions (A, AAAA, SRV and TXT of a name
// that owns such records) are packed once per snapshot node, from the
// general path (Answer), and afterwards copied and patched per query: the
// ID, the RD and CD flags, the DO bit of the OPT record and the letter case
// of the question name. The question is the first name of the message and
// every owner name of the answer is a compression pointer to it, so a
// question asked in another letter case has the same length and leaves
// every pointer valid. A node never changes once built, and a changed
// service gets new nodes, so a packed answer never outlives its records.
// Everything else (negative answers, which carry the serial, truncation,
// EDNS versions above 0, TSIG, other types and opcodes) takes the general
// path.

// wireSlots is the number of packed answers a node may hold: four query
// types, each without and with an OPT record.
const wireSlots = 8

// wireSlot returns the cache slot of a question, or -1 when its answer is
// not cached.
func wireSlot(qtype uint16, edns bool) int {
	var i int
	switch qtype {
	case dns.TypeA:
		i = 0
	case dns.TypeAAAA:
		i = 1
	case dns.TypeSRV:
		i = 2
	case dns.TypeTXT:
		i = 3
	default:
		return -1
	}
	if edns {
		i += wireSlots / 2
	}
	return i
}

// wireBufs holds response buffers between queries.
var wireBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Header bits of a packed answer that depend on the query.
const (
	flagsQRAA   = 0x84 // byte 2: QR and AA, opcode QUERY, no TC
	flagRD      = 0x01 // byte 2
	flagCD      = 0x10 // byte 3
	optDOOffset = 4    // from the end: high byte of the OPT flags (DO) when the OPT record, without options, comes last
	optDO       = 0x80
)

// writeCached answers req from the packed answer of its node, when there
// is one that fits the transport; it reports whether it wrote the answer.
func (h *Handler) writeCached(w dns.ResponseWriter, req *dns.Msg, tcp bool) bool {
	if req.Response || req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 ||
		len(req.Answer) != 0 || len(req.Ns) != 0 || len(req.Extra) > 1 {
		return false
	}
	q := req.Question[0]
	var opt *dns.OPT
	if len(req.Extra) == 1 {
		o, ok := req.Extra[0].(*dns.OPT)
		if !ok || o.Version() != 0 {
			return false
		}
		opt = o
	}
	slot := wireSlot(q.Qtype, opt != nil)
	if slot < 0 || q.Qclass != dns.ClassINET {
		return false
	}
	snap := h.src.Snapshot()
	if snap == nil {
		return false
	}
	name := strings.ToLower(q.Name)
	nd, res := snap.lookup(name)
	if res != found || nd.apex || (nd.primary && h.src.Stale()) || len(name) != len(q.Name) {
		return false
	}
	packed := nd.wire[slot].Load()
	if packed == nil {
		packed = pack(snap, name, q.Qtype, opt != nil)
		nd.wire[slot].Store(packed)
	}
	limit := maxTCPSize
	switch {
	case tcp:
	case opt != nil:
		limit = int(min(max(opt.UDPSize(), minUDPSize), maxUDPSize))
	default:
		limit = minUDPSize
	}
	if len(*packed) == 0 || len(*packed) > limit {
		return false
	}
	bp := wireBufs.Get().(*[]byte)
	defer wireBufs.Put(bp)
	b := append((*bp)[:0], *packed...)
	*bp = b
	b[0], b[1] = byte(req.Id>>8), byte(req.Id)
	b[2], b[3] = flagsQRAA, 0
	if req.RecursionDesired {
		b[2] |= flagRD
	}
	if req.CheckingDisabled {
		b[3] |= flagCD
	}
	if opt != nil && opt.Do() {
		b[len(b)-optDOOffset] |= optDO
	}
	// The question name as asked: same labels, other letter case.
	for i, p := 0, 13; i < len(q.Name)-1; i, p = i+1, p+1 {
		if q.Name[i] != '.' { // a dot stands where the next label's length byte is
			b[p] = q.Name[i]
		}
	}
	_, _ = w.Write(b) // the client is gone: nothing to do
	return true
}

// pack returns the answer of the general path (answer) to a lower-case
// question for a node of snap, as a template for writeCached; an empty
// slice when the answer is not positive and so is never served from a
// template.
func pack(snap *Snapshot, name string, qtype uint16, edns bool) *[]byte {
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	req.RecursionDesired = false
	if edns {
		req.SetEdns0(maxUDPSize, false)
	}
	none := &[]byte{}
	// The caller checked staleness; the template holds for every query
	// that passes the same check.
	resp := answer(fixedSnapshot{snap}, req, true)
	if resp == nil || resp.Rcode != dns.RcodeSuccess || !resp.Authoritative || resp.Truncated || len(resp.Answer) == 0 {
		return none
	}
	b, err := resp.Pack()
	if err != nil {
		return none
	}
	return &b
}

// fixedSnapshot is a SnapshotSource of one snapshot that is never stale.
type fixedSnapshot struct{ s *Snapshot }

func (f fixedSnapshot) Snapshot() *Snapshot { return f.s }
func (f fixedSnapshot) Stale() bool         { return false }
