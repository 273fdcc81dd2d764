package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/fedstate/fedstate/dnsserver"
)

// digResult is what fedctl dig asked and was answered: the pure input of
// explainDig.
type digResult struct {
	// Server asked, host:port.
	Server string
	// Zone is the federation zone, fully qualified.
	Zone string
	// Name asked, fully qualified.
	Name string
	// Type asked.
	Type uint16
	// Exchanges are the question's answers in order: one, or a truncated
	// UDP answer and its TCP retry.
	Exchanges []digExchange
	// SOA is the answer to the zone's SOA, asked when the answer carried
	// none; nil when not asked or it failed (SOAError).
	SOA *dns.Msg
	// SOAError says why the zone's SOA could not be read.
	SOAError string
	// Epoch is the answer to the primary's TXT record, asked for primary
	// names; nil when not asked or it failed (EpochError).
	Epoch *dns.Msg
	// EpochError says why the primary's TXT record could not be read.
	EpochError string
}

// digExchange is one question and its answer.
type digExchange struct {
	// TCP is true over TCP, false over UDP.
	TCP bool
	// Msg is the answer.
	Msg *dns.Msg
	// RTT is the time the answer took.
	RTT time.Duration
}

// nameKind says what a name of the federation zone is.
type nameKind struct {
	// what describes the name in words.
	what string
	// primary is primary.<svc>.<ns>.svc.<zone> when the answer depends on
	// the primary; empty otherwise.
	primary string
}

// classify says what name is in zone, following the names of docs/dns.md.
func classify(name, zone string) nameKind {
	if !inZone(name, zone) {
		return nameKind{what: "outside the zone " + zone + ": fedstate dns refuses it"}
	}
	rel := strings.TrimSuffix(strings.TrimSuffix(name, zone), ".")
	var l []string
	if rel != "" {
		l = strings.Split(rel, ".")
	}
	// Labels from the zone down: svc, namespace, service, then the rest.
	n := len(l)
	label := func(i int) string { return l[n-1-i] }
	switch {
	case n == 0:
		return nameKind{what: "the zone's apex: its SOA and NS records"}
	case label(0) != "svc":
		return nameKind{what: "not a name fedstate publishes (they end in .svc." + zone + ")"}
	case n == 1:
		return nameKind{what: "an empty non-terminal above the namespaces: NODATA for every type"}
	case n == 2:
		return nameKind{what: "namespace " + label(1) + ", an empty non-terminal: NODATA for every type"}
	}
	ns, svc := label(1), label(2)
	id := ns + "/" + svc
	base := svc + "." + ns + ".svc." + zone
	primary := "primary." + base
	switch {
	case n == 3:
		return nameKind{what: "service " + id + ": the addresses of every ready, unfenced replica"}
	case n == 4 && label(3) == "primary":
		return nameKind{what: "the primary of service " + id + " (A/AAAA: its address; TXT: its fencing epoch)", primary: primary}
	case n == 4 && strings.HasPrefix(label(3), "_"):
		return nameKind{what: "protocol " + label(3) + " of service " + id + ", an empty non-terminal: NODATA for every type"}
	case n == 4:
		if ord, ok := ordinalOf(svc, label(3)); ok {
			return nameKind{what: fmt.Sprintf("replica %d of service %s, wherever it runs (answered also when not ready)", ord, id)}
		}
		return nameKind{what: "cluster " + label(3) + " of service " + id + ", an empty non-terminal: NODATA for every type"}
	case n == 5 && strings.HasPrefix(label(4), "_") && strings.HasPrefix(label(3), "_"):
		return nameKind{what: "the SRV records of port " + strings.TrimPrefix(label(4), "_") + "/" + strings.TrimPrefix(label(3), "_") +
			" of service " + id + ": every ready, unfenced replica"}
	case n == 5:
		if ord, ok := ordinalOf(svc, label(4)); ok {
			return nameKind{what: fmt.Sprintf("replica %d of service %s in cluster %s (multi-cluster-services style)", ord, id, label(3))}
		}
	case n == 6 && label(3) == "primary" && strings.HasPrefix(label(5), "_"):
		return nameKind{what: "the SRV record of port " + strings.TrimPrefix(label(5), "_") + "/" + strings.TrimPrefix(label(4), "_") +
			" of the primary of service " + id, primary: primary}
	}
	return nameKind{what: "not a name fedstate publishes for service " + id}
}

// ordinalOf reads label as <svc>-<ordinal>.
func ordinalOf(svc, label string) (int, bool) {
	s, ok := strings.CutPrefix(label, svc+"-")
	if !ok {
		return 0, false
	}
	return dnsserver.ParseOrdinal(s)
}

// inZone reports whether name is zone or below it.
func inZone(name, zone string) bool {
	return zone == "." || name == zone || strings.HasSuffix(name, "."+zone)
}

// soaOf is the SOA record of an answer's answer or authority section; nil
// without one.
func soaOf(m *dns.Msg) *dns.SOA {
	for _, rr := range append(append([]dns.RR(nil), m.Answer...), m.Ns...) {
		if s, ok := rr.(*dns.SOA); ok {
			return s
		}
	}
	return nil
}

// explainDig writes the answers of res as dig prints them, each followed by
// what it means in this federation.
func explainDig(res *digResult) string {
	var b strings.Builder
	kind := classify(res.Name, res.Zone)
	qtype := dns.TypeToString[res.Type]
	fmt.Fprintf(&b, "Question: %s %s, asked of %s\n", res.Name, qtype, res.Server)
	fmt.Fprintf(&b, "Name:     %s\n", kind.what)
	for i, x := range res.Exchanges {
		m := x.Msg
		fmt.Fprintf(&b, "\n;; Answer over %s in %s, %d bytes:\n", transport(x.TCP), x.RTT.Round(time.Microsecond), m.Len())
		b.WriteString(indent(m.String(), "   "))
		if m.Truncated {
			fmt.Fprintf(&b, "\nTruncated: the answer did not fit in a %s message (TC set, records left out).\n", sizeLimit(x, res.Exchanges[0]))
			if i+1 < len(res.Exchanges) {
				b.WriteString("           Asked again over TCP, as a resolver would; that answer follows.\n")
			} else {
				b.WriteString("           Ask again over TCP (--tcp) for the full answer.\n")
			}
			continue
		}
		b.WriteString("\n")
		explainAnswer(&b, res, kind, m)
	}
	explainSerial(&b, res)
	explainEpoch(&b, res, kind)
	return b.String()
}

// sizeLimit describes the size a UDP answer had to fit in.
func sizeLimit(x, first digExchange) string {
	if x.TCP {
		return "TCP"
	}
	if opt := first.Msg.IsEdns0(); opt != nil {
		return fmt.Sprintf("UDP (EDNS, at most %d bytes)", opt.UDPSize())
	}
	return "UDP (at most 512 bytes without EDNS)"
}

// explainAnswer explains one complete answer: its code, its flags, its
// records and their TTLs.
func explainAnswer(b *strings.Builder, res *digResult, kind nameKind, m *dns.Msg) {
	qtype := dns.TypeToString[res.Type]
	rcode := dns.RcodeToString[m.Rcode]
	if opt := m.IsEdns0(); opt != nil && opt.ExtendedRcode() > 0xF {
		rcode = dns.RcodeToString[opt.ExtendedRcode()]
	}
	fmt.Fprintf(b, "Status:   %s: ", rcode)
	switch {
	case m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0:
		fmt.Fprintf(b, "the name exists and has %d %s record(s).\n", countType(m.Answer, res.Type), qtype)
	case m.Rcode == dns.RcodeSuccess:
		fmt.Fprintf(b, "NODATA: the name exists but has no %s record. Empty non-terminals (svc.<zone>, <ns>.svc.<zone>,\n"+
			"          _<proto>.<svc>..., <cluster>.<svc>...) answer so for every type, as does a name asked for a type\n"+
			"          it does not carry (TXT exists only at primary.<svc>...).\n", qtype)
	case m.Rcode == dns.RcodeNameError:
		b.WriteString("no such name in the zone: no record at or below it. fedstate publishes a name only while it\n" +
			"          has records: a service without ready replicas, a replica without addresses or an SRV name\n" +
			"          without targets is NXDOMAIN too.\n")
	case m.Rcode == dns.RcodeServerFailure && kind.primary != "":
		b.WriteString("the server will not name a primary it cannot vouch for. fedstate dns answers SERVFAIL for\n" +
			"          primary names when it has heard nothing from its etcd watch for --stale-after (3 s by\n" +
			"          default): its primary may be stale, fenced already. Other names still answer from its\n" +
			"          snapshot. The server retries by itself; see its /healthz and fedstate_dns_watch_stale.\n")
	case m.Rcode == dns.RcodeServerFailure:
		b.WriteString("the server failed to answer. fedstate dns answers SERVFAIL only for primary names while its\n" +
			"          etcd watch is lost, so another server, or a resolver in between, failed.\n")
	case m.Rcode == dns.RcodeRefused:
		fmt.Fprintf(b, "the server will not answer: the name is outside its zone (this server may not serve %s),\n"+
			"          the class is not IN, or a zone transfer was asked over UDP or from a network not allowed.\n", res.Zone)
	case m.Rcode == dns.RcodeNotImplemented:
		b.WriteString("the server does not implement this opcode; fedstate dns answers QUERY only.\n")
	case m.Rcode == dns.RcodeFormatError:
		b.WriteString("the server could not read the question (no or several questions, several OPT records).\n")
	case m.Rcode == dns.RcodeNotAuth:
		b.WriteString("a TSIG signature was expected or did not verify.\n")
	case rcode == "BADVERS":
		b.WriteString("the server speaks EDNS version 0 only.\n")
	default:
		b.WriteString("an answer code fedstate dns does not give.\n")
	}
	if m.Authoritative {
		b.WriteString("Flags:    authoritative (AA): the server is a source of the zone, not a cache.\n")
	} else {
		fmt.Fprintf(b, "Flags:    not authoritative (no AA): fedstate dns always sets AA for its zone, so the answer\n"+
			"          came from a cache or from a server that does not serve %s.\n", res.Zone)
	}
	explainRecords(b, m)
	if s := soaOf(m); s != nil && len(m.Answer) == 0 {
		fmt.Fprintf(b, "Cache:    resolvers may keep this negative answer for %ds (the SOA's TTL, at most its MINIMUM %ds).\n",
			s.Hdr.Ttl, s.Minttl)
	}
}

// explainRecords explains the answer's records: SRV roles and regions, and
// the TTLs.
func explainRecords(b *strings.Builder, m *dns.Msg) {
	ttls := map[uint32]bool{}
	for _, rr := range m.Answer {
		ttls[rr.Header().Ttl] = true
		srv, ok := rr.(*dns.SRV)
		if !ok {
			continue
		}
		fmt.Fprintf(b, "Target:   %s port %d: %s; %s.\n", srv.Target, srv.Port, roleOf(srv.Priority), regionOf(srv.Weight))
	}
	if len(m.Answer) > 0 {
		var list []string
		for _, rr := range m.Answer {
			if t := rr.Header().Ttl; ttls[t] {
				list = append(list, strconv.Itoa(int(t))+"s")
				ttls[t] = false
			}
		}
		fmt.Fprintf(b, "TTL:      %s: how long resolvers may keep the records: a change (a new primary, a replica\n"+
			"          gone) reaches their clients at most this late.\n",
			strings.Join(list, ", "))
	}
	if len(m.Extra) > 0 {
		glue := 0
		for _, rr := range m.Extra {
			if rr.Header().Rrtype == dns.TypeA || rr.Header().Rrtype == dns.TypeAAAA {
				glue++
			}
		}
		if glue > 0 {
			fmt.Fprintf(b, "Glue:     %d address(es) of the targets in the additional section: no second query needed.\n", glue)
		}
	}
}

// roleOf says what an SRV priority means.
func roleOf(priority uint16) string {
	switch priority {
	case dnsserver.PriorityPrimary:
		return "the primary (priority 0)"
	case dnsserver.PrioritySync:
		return "a synchronous standby (priority 10)"
	case dnsserver.PriorityAsync:
		return "an asynchronous replica (priority 20)"
	}
	return fmt.Sprintf("priority %d, which fedstate does not give", priority)
}

// regionOf says what an SRV weight means.
func regionOf(weight uint16) string {
	switch weight {
	case dnsserver.WeightLocal:
		return "in the server's own region (weight 100)"
	case dnsserver.WeightRemote:
		return "in another region than the server's (weight 10)"
	}
	return fmt.Sprintf("weight %d, which fedstate does not give", weight)
}

// explainSerial writes the zone's serial and where it comes from.
func explainSerial(b *strings.Builder, res *digResult) {
	last := res.Exchanges[len(res.Exchanges)-1].Msg
	s := soaOf(last)
	if s == nil && res.SOA != nil {
		s = soaOf(res.SOA)
	}
	b.WriteString("\n")
	switch {
	case s != nil:
		fmt.Fprintf(b, "Serial:   %d (SOA of %s): the etcd revision of the records the server answers from, modulo 2^32\n"+
			"          (dnsserver.SerialOf). Servers on the same serial give byte-identical answers; a server\n"+
			"          behind another has not seen the latest change yet.\n", s.Serial, s.Hdr.Name)
	case res.SOAError != "":
		fmt.Fprintf(b, "Serial:   unknown: %s\n", res.SOAError)
	default:
		b.WriteString("Serial:   unknown: the server gave no SOA for the zone.\n")
	}
}

// explainEpoch writes the primary's fencing epoch for names that depend on
// the primary.
func explainEpoch(b *strings.Builder, res *digResult, kind nameKind) {
	if kind.primary == "" {
		return
	}
	m := res.Epoch
	if m == nil && res.Type == dns.TypeTXT {
		m = res.Exchanges[len(res.Exchanges)-1].Msg
	}
	switch {
	case m == nil && res.EpochError != "":
		fmt.Fprintf(b, "Epoch:    unknown: %s\n", res.EpochError)
		return
	case m == nil:
		return
	case m.Rcode != dns.RcodeSuccess:
		fmt.Fprintf(b, "Epoch:    unknown: TXT %s answered %s.\n", kind.primary, dns.RcodeToString[m.Rcode])
		return
	}
	for _, rr := range m.Answer {
		txt, ok := rr.(*dns.TXT)
		if !ok {
			continue
		}
		fields := map[string]string{}
		for _, s := range txt.Txt {
			if k, v, ok := strings.Cut(s, "="); ok {
				fields[k] = v
			}
		}
		fmt.Fprintf(b, "Epoch:    %s (TXT %s): the fencing epoch of the primary, replica %s, promoted in it.\n"+
			"          Every promotion raises it; a server claiming an older epoch is fenced.\n",
			orDash(fields["epoch"]), kind.primary, orDash(fields["ordinal"]))
		return
	}
	fmt.Fprintf(b, "Epoch:    unknown: TXT %s has no record (no primary published).\n", kind.primary)
}

// countType counts the records of type t.
func countType(rrs []dns.RR, t uint16) int {
	n := 0
	for _, rr := range rrs {
		if rr.Header().Rrtype == t || t == dns.TypeANY {
			n++
		}
	}
	return n
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if line != "" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}
