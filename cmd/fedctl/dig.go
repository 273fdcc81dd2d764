package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/fedstate/fedstate/dnsserver"
)

// digTimeout bounds each query of fedctl dig: a server on the network
// answers from memory in milliseconds; seconds mean it does not answer.
const digTimeout = 3 * time.Second

// digEDNSSize is the UDP payload size fedctl dig advertises: the size
// fedstate dns caps its answers at (RFC 9715's 1232 bytes).
const digEDNSSize = 1232

// digOptions are the flags of fedctl dig.
type digOptions struct {
	server string
	tcp    bool
	zone   string
}

func newDigCommand() *cobra.Command {
	o := &digOptions{}
	server := defaultDNSServer()
	cmd := &cobra.Command{
		Use:   "dig NAME [TYPE] [--server HOST:PORT] [--tcp] [--zone ZONE]",
		Short: "Ask the federation DNS server a question and explain its answer",
		Long: `Ask a fedstate DNS server (fedstate dns) one question, print its answer as
dig does, and explain it in plain words for this federation (the names are
described in docs/dns.md):

  - what the name is: a service's ready replicas, its primary, one replica,
    an SRV name, or an empty non-terminal;
  - the response code and what it means here: NOERROR with records, NODATA
    (the name exists without records of this type), NXDOMAIN (no such name:
    also a service without ready replicas), SERVFAIL (for primary names: the
    server lost its etcd watch and will not name a possibly stale primary),
    REFUSED (outside the zone);
  - whether the answer is authoritative (fedstate dns always is, for its
    zone);
  - the zone's SOA serial, which is the etcd revision of the records the
    server answers from (modulo 2^32): two servers on the same serial give
    the same answers;
  - each SRV target's role, from its priority (0 primary, 10 synchronous
    standby, 20 asynchronous replica), and whether its weight says it is in
    the server's own region (100) or elsewhere (10);
  - for primary names, the fencing epoch from the TXT record of
    primary.<svc>.<ns>.svc.<zone>, asked too;
  - the TTLs: how long resolvers may cache each record or the negative
    answer;
  - a truncated UDP answer (TC), retried over TCP as a resolver would.

NAME is fully qualified when it ends in "." or in the zone; otherwise the
zone is appended ("primary.db.prod.svc" is asked as
primary.db.prod.svc.fedstate.local.). TYPE is A by default, SRV for names
starting with "_"; any type dig knows is accepted (A, AAAA, SRV, TXT, SOA,
NS, ANY).

Flags:
  --server HOST:PORT  the DNS server to ask; default $FEDSTATE_DNS, else
                      127.0.0.1:5353. Port 53 when none is given
  --tcp               ask over TCP from the start instead of UDP
  --zone ZONE         the federation zone, to complete relative names and
                      ask its SOA; default fedstate.local.`,
		Example: `  # The primary of service prod/db, at the local test bed's server:
  fedctl dig primary.db.prod.svc --server 127.0.0.1:5353

  # The SRV targets of its pg port, with their roles and regions:
  fedctl dig _pg._tcp.db.prod.svc --server 127.0.0.1:5353

  # The fencing epoch, over TCP, in another zone:
  FEDSTATE_DNS=192.0.2.53:53 fedctl dig primary.db.prod.svc.fedstate.example. TXT --tcp`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDig(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", server, "DNS server to ask, HOST:PORT (default $FEDSTATE_DNS, else 127.0.0.1:5353); e.g. --server 127.0.0.1:5353")
	f.BoolVar(&o.tcp, "tcp", false, "ask over TCP instead of UDP; e.g. --tcp for an answer too large for UDP")
	f.StringVar(&o.zone, "zone", dnsserver.DefaultConfig().Zone, "federation DNS zone, appended to relative names; e.g. --zone fedstate.example.")
	return cmd
}

// runDig asks the questions and prints the explanation.
func runDig(cmd *cobra.Command, o *digOptions, args []string) error {
	var bad []string
	zone, err := canonicalZone(o.zone)
	if err != nil {
		bad = append(bad, err.Error())
	}
	name := fullName(args[0], zone)
	if _, ok := dns.IsDomainName(name); !ok || name == "." && args[0] != "." {
		bad = append(bad, fmt.Sprintf("NAME %q: not a domain name", args[0]))
	}
	qtype := dns.TypeA
	if strings.HasPrefix(name, "_") {
		qtype = dns.TypeSRV
	}
	if len(args) == 2 {
		t, ok := dns.StringToType[strings.ToUpper(args[1])]
		if !ok {
			bad = append(bad, fmt.Sprintf("TYPE %q: want a record type such as A, AAAA, SRV, TXT or SOA", args[1]))
		}
		qtype = t
	}
	server, err := serverAddr(o.server)
	if err != nil {
		bad = append(bad, err.Error())
	}
	if len(bad) > 0 {
		return invalidArguments(bad)
	}
	res, err := dig(cmd.Context(), server, zone, name, qtype, o.tcp)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(cmd.OutOrStdout(), explainDig(res))
	return err
}

// fullName makes name lower-case and fully qualified: kept when it ends in
// "." or in zone, else with zone appended.
func fullName(name, zone string) string {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, ".") {
		return n
	}
	if apex := strings.TrimSuffix(zone, "."); n == apex || strings.HasSuffix(n, "."+apex) {
		return n + "."
	}
	return n + "." + zone
}

// serverAddr reads --server: HOST:PORT, or HOST alone for port 53.
func serverAddr(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("--server %q: want HOST:PORT", s)
	}
	if _, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return "", fmt.Errorf("--server %q: want HOST:PORT with a port from 1 to 65535", s)
		}
		return s, nil
	}
	if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
		return net.JoinHostPort(s, "53"), nil // a bare IPv6 address
	}
	if strings.Contains(s, ":") {
		return "", fmt.Errorf("--server %q: want HOST:PORT", s)
	}
	return net.JoinHostPort(s, "53"), nil
}

// dig asks server about name and type: over UDP (then TCP when truncated)
// or TCP, then the zone's SOA when the answer carries none, and the
// primary's TXT record for primary names.
func dig(ctx context.Context, server, zone, name string, qtype uint16, tcp bool) (*digResult, error) {
	res := &digResult{Server: server, Zone: zone, Name: name, Type: qtype}
	x, err := exchange(ctx, server, name, qtype, tcp)
	if err != nil {
		return nil, err
	}
	res.Exchanges = append(res.Exchanges, x)
	if x.Msg.Truncated && !tcp {
		x, err = exchange(ctx, server, name, qtype, true)
		if err != nil {
			return nil, fmt.Errorf("retry over TCP after a truncated answer: %w", err)
		}
		res.Exchanges = append(res.Exchanges, x)
	}
	final := x.Msg
	if soaOf(final) == nil && inZone(name, zone) {
		s, err := exchange(ctx, server, zone, dns.TypeSOA, tcp)
		if err != nil {
			res.SOAError = err.Error()
		} else {
			res.SOA = s.Msg
		}
	}
	if what := classify(name, zone); what.primary != "" && (qtype != dns.TypeTXT || name != what.primary) {
		t, err := exchange(ctx, server, what.primary, dns.TypeTXT, tcp)
		if err != nil {
			res.EpochError = err.Error()
		} else {
			res.Epoch = t.Msg
		}
	}
	return res, nil
}

// exchange asks one question with EDNS(0), over TCP or UDP, within
// digTimeout.
func exchange(ctx context.Context, server, name string, qtype uint16, tcp bool) (digExchange, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(digEDNSSize, false)
	c := &dns.Client{Net: "udp", Timeout: digTimeout, UDPSize: digEDNSSize}
	if tcp {
		c.Net = "tcp"
	}
	ctx, cancel := context.WithTimeout(ctx, digTimeout)
	defer cancel()
	r, rtt, err := c.ExchangeContext(ctx, m, server)
	if err != nil {
		return digExchange{}, fmt.Errorf("ask %s for %s %s over %s: %w", server, name, dns.TypeToString[qtype], transport(tcp), err)
	}
	return digExchange{TCP: tcp, Msg: r, RTT: rtt}, nil
}

// transport names the transport of a query.
func transport(tcp bool) string {
	if tcp {
		return "TCP"
	}
	return "UDP"
}
