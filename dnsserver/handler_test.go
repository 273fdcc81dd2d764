package dnsserver

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// query describes one request of a handler test.
type query struct {
	name    string
	qtype   uint16
	class   uint16 // IN when zero
	edns    uint16 // EDNS UDP size; 0 sends no OPT record
	version uint8
	tcp     bool
	edit    func(*dns.Msg)
}

func (q query) msg() *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.Id = 4242
	if q.class != 0 {
		m.Question[0].Qclass = q.class
	}
	if q.edns != 0 {
		m.SetEdns0(q.edns, true)
		m.IsEdns0().SetVersion(q.version)
	}
	if q.edit != nil {
		q.edit(m)
	}
	return m
}

const z = "fedstate.local."

func TestHandlerGolden(t *testing.T) {
	snap := fixtureSnapshot(t)
	tests := []struct {
		name  string
		q     query
		stale bool
		empty bool // no snapshot loaded yet
	}{
		{name: "service-a", q: query{name: "db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "service-aaaa", q: query{name: "db.prod.svc." + z, qtype: dns.TypeAAAA}},
		{name: "replica-a", q: query{name: "db-1.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "replica-fenced-a", q: query{name: "db-3.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "replica-cluster-alias", q: query{name: "db-1.us-1.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "replica-wrong-cluster", q: query{name: "db-1.eu-1.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "primary-a", q: query{name: "primary.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "primary-aaaa", q: query{name: "primary.db.prod.svc." + z, qtype: dns.TypeAAAA}},
		{name: "primary-txt-epoch", q: query{name: "primary.db.prod.svc." + z, qtype: dns.TypeTXT}},
		{name: "srv-role-and-locality", q: query{name: "_pg._tcp.db.prod.svc." + z, qtype: dns.TypeSRV, edns: 1232}},
		{name: "srv-primary", q: query{name: "_pg._tcp.primary.db.prod.svc." + z, qtype: dns.TypeSRV}},
		{name: "ent-cluster-nodata", q: query{name: "us-1.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "ent-proto-nodata", q: query{name: "_tcp.db.prod.svc." + z, qtype: dns.TypeSRV}},
		{name: "ent-namespace-nodata", q: query{name: "prod.svc." + z, qtype: dns.TypeA}},
		{name: "ent-svc-nodata", q: query{name: "svc." + z, qtype: dns.TypeA}},
		{name: "type-nodata", q: query{name: "db.prod.svc." + z, qtype: dns.TypeMX}},
		{name: "nxdomain-service", q: query{name: "nope.prod.svc." + z, qtype: dns.TypeA}},
		{name: "nxdomain-replica", q: query{name: "db-9.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "nxdomain-below-replica", q: query{name: "x.db-1.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "refused-outside-zone", q: query{name: "example.com.", qtype: dns.TypeA}},
		{name: "refused-chaos", q: query{name: "version.bind.", qtype: dns.TypeTXT, class: dns.ClassCHAOS}},
		{name: "refused-axfr", q: query{name: z, qtype: dns.TypeAXFR, tcp: true}},
		{name: "apex-soa", q: query{name: z, qtype: dns.TypeSOA}},
		{name: "apex-ns-with-glue", q: query{name: z, qtype: dns.TypeNS}},
		{name: "nameserver-a", q: query{name: "ns." + z, qtype: dns.TypeA}},
		{name: "case-echoed", q: query{name: "DB-1.Db.PROD.svc.FedState.LOCAL.", qtype: dns.TypeA}},
		{name: "any-minimal", q: query{name: "db.prod.svc." + z, qtype: dns.TypeANY}},
		{name: "any-nxdomain", q: query{name: "nope.prod.svc." + z, qtype: dns.TypeANY}},
		{name: "udp-512-srv-with-glue", q: query{name: "_pg._tcp.db.prod.svc." + z, qtype: dns.TypeSRV}},
		{name: "udp-1232-glue-partly-dropped", q: query{name: "_http._tcp.mid.prod.svc." + z, qtype: dns.TypeSRV, edns: 1232}},
		{name: "udp-512-mid-truncated", q: query{name: "_http._tcp.mid.prod.svc." + z, qtype: dns.TypeSRV}},
		{name: "udp-edns-small-raised-to-512", q: query{name: "_pg._tcp.db.prod.svc." + z, qtype: dns.TypeSRV, edns: 100}},
		{name: "udp-512-truncated", q: query{name: "_http._tcp.big.prod.svc." + z, qtype: dns.TypeSRV}},
		{name: "udp-edns-4096-capped-truncated", q: query{name: "_http._tcp.big.prod.svc." + z, qtype: dns.TypeSRV, edns: 4096}},
		{name: "udp-edns-1232-a-fits", q: query{name: "big.prod.svc." + z, qtype: dns.TypeA, edns: 4096}},
		{name: "tcp-full-answer", q: query{name: "_http._tcp.big.prod.svc." + z, qtype: dns.TypeSRV, tcp: true}},
		{name: "edns-badvers", q: query{name: "db.prod.svc." + z, qtype: dns.TypeA, edns: 1232, version: 1}},
		{name: "edns-unknown-option-ignored", q: query{name: "db.prod.svc." + z, qtype: dns.TypeA, edns: 1232,
			edit: func(m *dns.Msg) {
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2}})
			}}},
		{name: "edns-two-opt-formerr", q: query{name: "db.prod.svc." + z, qtype: dns.TypeA, edns: 1232,
			edit: func(m *dns.Msg) { m.Extra = append(m.Extra, m.Extra[0]) }}},
		{name: "no-question-formerr", q: query{name: z, qtype: dns.TypeA, edit: func(m *dns.Msg) { m.Question = nil }}},
		{name: "notify-notimp", q: query{name: z, qtype: dns.TypeSOA, edit: func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }}},
		{name: "stale-primary-servfail", stale: true, q: query{name: "primary.db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "stale-primary-srv-servfail", stale: true, q: query{name: "_pg._tcp.primary.db.prod.svc." + z, qtype: dns.TypeSRV}},
		{name: "stale-service-still-answers", stale: true, q: query{name: "db.prod.svc." + z, qtype: dns.TypeA}},
		{name: "no-snapshot-servfail", empty: true, q: query{name: "db.prod.svc." + z, qtype: dns.TypeA}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := fixedSource{snap: snap, stale: tc.stale}
			if tc.empty {
				src.snap = nil
			}
			req := tc.q.msg()
			resp := NewHandler(src, nil).Answer(req, tc.q.tcp)
			wire, err := resp.Pack()
			if err != nil {
				t.Fatalf("pack: %v", err)
			}
			if limit := sizeLimit(req, tc.q.tcp); len(wire) > limit {
				t.Fatalf("answer is %d bytes, limit %d", len(wire), limit)
			}
			if resp.Id != req.Id || resp.RecursionAvailable {
				t.Errorf("id %d (want %d), ra %v", resp.Id, req.Id, resp.RecursionAvailable)
			}
			onWire := new(dns.Msg)
			if err := onWire.Unpack(wire); err != nil {
				t.Fatalf("unpack own answer: %v", err)
			}
			golden(t, tc.name, zoneText(onWire, len(wire)))
		})
	}
}

// sizeLimit is the most a response to req may take on its transport.
func sizeLimit(req *dns.Msg, tcp bool) int {
	switch o := req.IsEdns0(); {
	case tcp:
		return dns.MaxMsgSize
	case o == nil:
		return 512
	default:
		return int(min(max(o.UDPSize(), 512), 1232))
	}
}

func TestHandlerIgnoresResponses(t *testing.T) {
	req := query{name: "db.prod.svc." + z, qtype: dns.TypeA}.msg()
	req.Response = true
	if resp := NewHandler(fixedSource{snap: fixtureSnapshot(t)}, nil).Answer(req, false); resp != nil {
		t.Fatalf("answered a response: %v", resp)
	}
}

func TestHandlerQuestionEchoedByteForByte(t *testing.T) {
	req := query{name: "dB-1.dB.pRoD.SVC.fedstate.LOCAL.", qtype: dns.TypeA}.msg()
	in, err := req.Pack()
	if err != nil {
		t.Fatal(err)
	}
	resp := NewHandler(fixedSource{snap: fixtureSnapshot(t)}, nil).Answer(req, false)
	out, err := resp.Pack()
	if err != nil {
		t.Fatal(err)
	}
	qlen := len(req.Question[0].Name) + 1 + 4 // wire name, type, class
	if string(in[12:12+qlen]) != string(out[12:12+qlen]) {
		t.Fatalf("question on the wire\n got %q\nwant %q", out[12:12+qlen], in[12:12+qlen])
	}
	if len(resp.Answer) != 1 {
		t.Fatalf("mixed-case query got %d answers, want 1", len(resp.Answer))
	}
}

// TestNegativeAnswerTTL checks RFC 2308 section 3: the SOA of a negative
// answer has the TTL min(SOA TTL, MINIMUM), and MINIMUM is the negative
// TTL, whichever of the two is smaller; the apex SOA keeps the zone TTL.
func TestNegativeAnswerTTL(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ttl, negative time.Duration
		wantNegative  uint32
	}{
		{name: "negative TTL shorter", ttl: 30 * time.Second, negative: 5 * time.Second, wantNegative: 5},
		{name: "zone TTL shorter", ttl: 5 * time.Second, negative: 60 * time.Second, wantNegative: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.TTL, cfg.NegativeTTL = tc.ttl, tc.negative
			snap, errs := NewSnapshot(cfg).Apply(42, DefaultPrefix, fixtureChanges(t))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			h := NewHandler(fixedSource{snap: snap}, nil)
			for _, q := range []query{
				{name: "nope.prod.svc." + z, qtype: dns.TypeA}, // NXDOMAIN
				{name: "db.prod.svc." + z, qtype: dns.TypeMX},  // NODATA
				{name: "prod.svc." + z, qtype: dns.TypeA},      // empty non-terminal
			} {
				resp := h.Answer(q.msg(), false)
				if len(resp.Ns) != 1 {
					t.Fatalf("%s: authority %v, want the SOA", q.name, resp.Ns)
				}
				soa := resp.Ns[0].(*dns.SOA)
				if soa.Hdr.Ttl != tc.wantNegative || soa.Minttl != uint32(tc.negative.Seconds()) {
					t.Errorf("%s: SOA TTL %d MINIMUM %d, want TTL %d MINIMUM %d", q.name, soa.Hdr.Ttl, soa.Minttl,
						tc.wantNegative, uint32(tc.negative.Seconds()))
				}
			}
			resp := h.Answer(query{name: z, qtype: dns.TypeSOA}.msg(), false)
			if len(resp.Answer) != 1 || resp.Answer[0].Header().Ttl != uint32(tc.ttl.Seconds()) {
				t.Errorf("apex SOA %v, want TTL %v", resp.Answer, tc.ttl)
			}
		})
	}
}
