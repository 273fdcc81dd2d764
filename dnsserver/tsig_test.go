package dnsserver

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSignedQueries checks RFC 8945 for queries outside zone transfers:
// a query signed with a known key gets a signed answer, one that fails
// verification gets NOTAUTH and the TSIG error, unsigned queries are
// answered as usual.
func TestSignedQueries(t *testing.T) {
	const prefix = "/it-tsig/"
	withKeys := startServer(t, transferConfig(prefix))
	noKeys := startServer(t, integrationConfig(prefix))
	publish(t, prefix)
	for _, s := range []*testServer{withKeys, noKeys} {
		poll(t, 5*time.Second, "records served", func() error { return s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess) })
	}
	const otherSecret = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0xMjM0NTY="
	for _, tc := range []struct {
		name      string
		server    *testServer
		key       string // "" sends the query unsigned
		secret    string
		net       string
		rcode     int
		tsigError uint16
		signed    bool
	}{
		{name: "known key over UDP", server: withKeys, key: tsigName, secret: tsigSecret, net: "udp", rcode: dns.RcodeSuccess, signed: true},
		{name: "known key over TCP", server: withKeys, key: tsigName, secret: tsigSecret, net: "tcp", rcode: dns.RcodeSuccess, signed: true},
		{name: "unsigned", server: withKeys, net: "udp", rcode: dns.RcodeSuccess},
		{name: "unknown key", server: withKeys, key: "other.fedstate.local.", secret: tsigSecret, net: "udp", rcode: dns.RcodeNotAuth, tsigError: dns.RcodeBadKey},
		{name: "wrong secret", server: withKeys, key: tsigName, secret: otherSecret, net: "udp", rcode: dns.RcodeNotAuth, tsigError: dns.RcodeBadSig},
		{name: "server without keys", server: noKeys, key: tsigName, secret: tsigSecret, net: "udp", rcode: dns.RcodeNotAuth, tsigError: dns.RcodeBadKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("_pg._tcp.db.prod.svc."+z, dns.TypeSRV)
			c := &dns.Client{Net: tc.net, Timeout: 2 * time.Second}
			if tc.key != "" {
				m.SetTsig(tc.key, dns.HmacSHA256, 300, time.Now().Unix())
				c.TsigSecret = map[string]string{tc.key: tc.secret}
			}
			var resp *dns.Msg
			var err error
			if tc.rcode == dns.RcodeNotAuth {
				resp, err = exchangeUnverified(tc.server.addr, m) // the error answer is not signed
			} else {
				resp, _, err = c.Exchange(m, tc.server.addr) // verifies a signed answer
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode])
			}
			tsig := resp.IsTsig()
			switch {
			case tc.signed && (tsig == nil || len(tsig.MAC) == 0):
				t.Errorf("answer not signed: %v", resp)
			case tc.tsigError != 0 && (tsig == nil || tsig.Error != tc.tsigError):
				t.Errorf("TSIG %v, want error %s", tsig, dns.RcodeToString[int(tc.tsigError)])
			case !tc.signed && tc.tsigError == 0 && tsig != nil:
				t.Errorf("unsigned query got a TSIG record: %v", tsig)
			}
			if tc.rcode == dns.RcodeSuccess && len(resp.Answer) != 3 {
				t.Errorf("%d answers, want 3", len(resp.Answer))
			}
		})
	}
}

// exchangeUnverified sends m over UDP and parses the answer without
// checking its TSIG.
func exchangeUnverified(addr string, m *dns.Msg) (*dns.Msg, error) {
	wire, err := m.Pack()
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := conn.Write(wire); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, err
	}
	resp := new(dns.Msg)
	return resp, resp.Unpack(buf[:n])
}
