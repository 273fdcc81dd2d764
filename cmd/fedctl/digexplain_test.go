package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// digZone is the zone of the dig fixtures.
const digZone = "fedstate.local."

// rr parses one record in zone-file syntax.
func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return r
}

// dnsAnswer is a fixed answer to name and qtype with rcode and the records of
// each section (zone-file lines); EDNS 1232 echoed.
func dnsAnswer(t *testing.T, name string, qtype uint16, rcode int, ans, ns, extra []string) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.Id = 4242
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	m.Authoritative = true
	for _, s := range ans {
		m.Answer = append(m.Answer, rr(t, s))
	}
	for _, s := range ns {
		m.Ns = append(m.Ns, rr(t, s))
	}
	for _, s := range extra {
		m.Extra = append(m.Extra, rr(t, s))
	}
	m.SetEdns0(1232, false)
	return m
}

// soaLine is the zone's SOA at serial 48213 with the TTL of negative
// answers.
const soaLine = "fedstate.local. 5 IN SOA ns.fedstate.local. hostmaster.fedstate.local. 48213 60 10 3600 5"

// epochAnswer is the TXT record of prod/db's primary.
func epochAnswer(t *testing.T) *dns.Msg {
	return dnsAnswer(t, "primary.db.prod.svc.fedstate.local.", dns.TypeTXT, dns.RcodeSuccess,
		[]string{`primary.db.prod.svc.fedstate.local. 5 IN TXT "epoch=7" "ordinal=2"`}, nil, nil)
}

// zoneSOA is the answer to the zone's SOA.
func zoneSOA(t *testing.T) *dns.Msg {
	return dnsAnswer(t, digZone, dns.TypeSOA, dns.RcodeSuccess, []string{soaLine}, nil, nil)
}

// TestExplainDigGolden explains crafted answers and compares with
// testdata/dig-<case>.golden; -update rewrites them.
func TestExplainDigGolden(t *testing.T) {
	const srvName = "_pg._tcp.db.prod.svc.fedstate.local."
	for _, tc := range []struct {
		name string
		res  func(t *testing.T) *digResult
	}{
		{name: "srv-roles", res: func(t *testing.T) *digResult {
			return &digResult{Server: "127.0.0.1:5353", Zone: digZone, Name: srvName, Type: dns.TypeSRV,
				Exchanges: []digExchange{{Msg: dnsAnswer(t, srvName, dns.TypeSRV, dns.RcodeSuccess, []string{
					srvName + " 5 IN SRV 0 100 5432 db-2.db.prod.svc.fedstate.local.",
					srvName + " 5 IN SRV 10 10 5432 db-0.db.prod.svc.fedstate.local.",
					srvName + " 5 IN SRV 20 100 5432 db-3.db.prod.svc.fedstate.local.",
				}, nil, []string{
					"db-2.db.prod.svc.fedstate.local. 5 IN A 127.12.0.4",
					"db-0.db.prod.svc.fedstate.local. 5 IN A 127.11.0.2",
					"db-3.db.prod.svc.fedstate.local. 5 IN A 127.12.0.5",
				}), RTT: 412 * time.Microsecond}},
				SOA: zoneSOA(t)}
		}},
		{name: "primary", res: func(t *testing.T) *digResult {
			name := "primary.db.prod.svc.fedstate.local."
			return &digResult{Server: "127.0.0.1:5353", Zone: digZone, Name: name, Type: dns.TypeA,
				Exchanges: []digExchange{{Msg: dnsAnswer(t, name, dns.TypeA, dns.RcodeSuccess,
					[]string{name + " 5 IN A 127.12.0.4"}, nil, nil), RTT: 380 * time.Microsecond}},
				SOA: zoneSOA(t), Epoch: epochAnswer(t)}
		}},
		{name: "nxdomain", res: func(t *testing.T) *digResult {
			name := "nope.prod.svc.fedstate.local."
			return &digResult{Server: "127.0.0.1:5353", Zone: digZone, Name: name, Type: dns.TypeA,
				Exchanges: []digExchange{{Msg: dnsAnswer(t, name, dns.TypeA, dns.RcodeNameError, nil, []string{soaLine}, nil),
					RTT: 290 * time.Microsecond}}}
		}},
		{name: "nodata", res: func(t *testing.T) *digResult {
			name := "prod.svc.fedstate.local."
			return &digResult{Server: "127.0.0.1:5353", Zone: digZone, Name: name, Type: dns.TypeA,
				Exchanges: []digExchange{{Msg: dnsAnswer(t, name, dns.TypeA, dns.RcodeSuccess, nil, []string{soaLine}, nil),
					RTT: 301 * time.Microsecond}}}
		}},
		{name: "servfail-stale-primary", res: func(t *testing.T) *digResult {
			name := "_pg._tcp.primary.db.prod.svc.fedstate.local."
			fail := dnsAnswer(t, "primary.db.prod.svc.fedstate.local.", dns.TypeTXT, dns.RcodeServerFailure, nil, nil, nil)
			return &digResult{Server: "127.0.0.1:5353", Zone: digZone, Name: name, Type: dns.TypeSRV,
				Exchanges: []digExchange{{Msg: dnsAnswer(t, name, dns.TypeSRV, dns.RcodeServerFailure, nil, nil, nil),
					RTT: 350 * time.Microsecond}},
				SOA: zoneSOA(t), Epoch: fail}
		}},
		{name: "truncated", res: func(t *testing.T) *digResult {
			name := "_http._tcp.big.prod.svc.fedstate.local."
			tc := dnsAnswer(t, name, dns.TypeSRV, dns.RcodeSuccess, nil, nil, nil)
			tc.Truncated = true
			var records []string
			for _, n := range []string{"0", "1", "2"} {
				records = append(records, name+" 5 IN SRV 20 10 80 big-"+n+".big.prod.svc.fedstate.local.")
			}
			full := dnsAnswer(t, name, dns.TypeSRV, dns.RcodeSuccess, records, nil, nil)
			return &digResult{Server: "127.0.0.1:5353", Zone: digZone, Name: name, Type: dns.TypeSRV,
				Exchanges: []digExchange{{Msg: tc, RTT: 270 * time.Microsecond}, {TCP: true, Msg: full, RTT: 1210 * time.Microsecond}},
				SOAError:  "ask 127.0.0.1:5353 for fedstate.local. SOA over UDP: i/o timeout"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, filepath.Join("testdata", "dig-"+tc.name+".golden"), []byte(explainDig(tc.res(t))))
		})
	}
}

func TestClassify(t *testing.T) {
	for name, want := range map[string]nameKind{
		"fedstate.local.":                       {what: "the zone's apex: its SOA and NS records"},
		"example.com.":                          {what: "outside the zone fedstate.local.: fedstate dns refuses it"},
		"svc.fedstate.local.":                   {what: "an empty non-terminal above the namespaces: NODATA for every type"},
		"db.prod.svc.fedstate.local.":           {what: "service prod/db: the addresses of every ready, unfenced replica"},
		"db-3.db.prod.svc.fedstate.local.":      {what: "replica 3 of service prod/db, wherever it runs (answered also when not ready)"},
		"db-03.db.prod.svc.fedstate.local.":     {what: "cluster db-03 of service prod/db, an empty non-terminal: NODATA for every type"},
		"db-1.eu-1.db.prod.svc.fedstate.local.": {what: "replica 1 of service prod/db in cluster eu-1 (multi-cluster-services style)"},
		"_tcp.db.prod.svc.fedstate.local.":      {what: "protocol _tcp of service prod/db, an empty non-terminal: NODATA for every type"},
		"primary.db.prod.svc.fedstate.local.": {what: "the primary of service prod/db (A/AAAA: its address; TXT: its fencing epoch)",
			primary: "primary.db.prod.svc.fedstate.local."},
		"_pg._tcp.primary.db.prod.svc.fedstate.local.": {what: "the SRV record of port pg/tcp of the primary of service prod/db",
			primary: "primary.db.prod.svc.fedstate.local."},
		"x.y.db.prod.svc.fedstate.local.": {what: "not a name fedstate publishes for service prod/db"},
	} {
		if got := classify(name, digZone); got != want {
			t.Errorf("classify(%s) = %+v, want %+v", name, got, want)
		}
	}
}

func TestFullNameAndServer(t *testing.T) {
	for in, want := range map[string]string{
		"primary.db.prod.svc":             "primary.db.prod.svc.fedstate.local.",
		"DB.prod.svc.fedstate.local":      "db.prod.svc.fedstate.local.",
		"fedstate.local":                  "fedstate.local.",
		"db.prod.svc.fedstate.example.":   "db.prod.svc.fedstate.example.",
		"_pg._tcp.db.prod.svc.fedstate.l": "_pg._tcp.db.prod.svc.fedstate.l.fedstate.local.",
	} {
		if got := fullName(in, digZone); got != want {
			t.Errorf("fullName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"127.0.0.1:5353": "127.0.0.1:5353", "127.0.0.1": "127.0.0.1:53",
		"::1": "[::1]:53", "[::1]:5353": "[::1]:5353", "ns.example": "ns.example:53", "a:b": ""} {
		got, err := serverAddr(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("serverAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
