package dnsserver

import (
	"bytes"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// recorder is a dns.ResponseWriter that keeps what the handler writes.
type recorder struct {
	tcp  bool
	out  []*dns.Msg
	wire [][]byte // the answers written packed
}

func (r *recorder) LocalAddr() net.Addr {
	if r.tcp {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}
func (r *recorder) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (r *recorder) WriteMsg(m *dns.Msg) error { r.out = append(r.out, m); return nil }

// Write keeps a packed answer as its parse, or the parse error.
func (r *recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	r.wire = append(r.wire, append([]byte(nil), b...))
	r.out = append(r.out, m)
	return len(b), nil
}
func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}

// FuzzServeDNS feeds arbitrary packets that miekg/dns accepts to ServeDNS
// over both transports: it must never panic, must answer every query with
// its own ID, the answer must pack within the transport's size, and the
// bytes written must be those of Answer, the general path.
func FuzzServeDNS(f *testing.F) {
	for _, q := range []query{
		{name: "_pg._tcp.db.prod.svc." + z, qtype: dns.TypeSRV, edns: 1232},
		{name: "DB.prod.svc." + z, qtype: dns.TypeANY},
		{name: "x.svc." + z, qtype: dns.TypeA, edns: 512, version: 3},
		{name: "_http._tcp.big.prod.svc." + z, qtype: dns.TypeSRV},
	} {
		b, err := q.msg().Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	h := NewHandler(fixedSource{snap: fixtureSnapshot(f)}, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil {
			return // the server answers FORMERR before any handler runs
		}
		for _, tcp := range []bool{false, true} {
			w := &recorder{tcp: tcp}
			h.ServeDNS(w, req)
			if req.Response {
				if len(w.out) != 0 {
					t.Fatal("answered a response")
				}
				continue
			}
			if len(w.out) != 1 {
				t.Fatalf("wrote %d messages", len(w.out))
			}
			resp := w.out[0]
			wire, err := resp.Pack()
			if err != nil {
				t.Fatalf("pack answer: %v\n%v", err, resp)
			}
			if limit := sizeLimit(req, tcp); len(wire) > limit {
				t.Fatalf("answer is %d bytes, limit %d", len(wire), limit)
			}
			if resp.Id != req.Id || !resp.Response || resp.RecursionAvailable {
				t.Fatalf("bad header: %+v", resp.MsgHdr)
			}
			// Packed templates or not, the bytes are those of the general path.
			if req.IsTsig() == nil && !(tcp && isTransfer(req)) {
				if len(w.wire) == 1 {
					wire = w.wire[0]
				}
				want, err := h.Answer(req, tcp).Pack()
				if err != nil || !bytes.Equal(wire, want) {
					t.Fatalf("ServeDNS wrote %x, Answer gives %x (%v)", wire, want, err)
				}
			}
		}
	})
}
