package dnsserver

import (
	"errors"
	"time"

	"github.com/miekg/dns"
)

// WithTSIG returns a copy of h for a dns.Server that verifies TSIG with
// the configured keys (its TsigSecret): queries signed with a known key
// get signed answers (RFC 8945 section 5.3). Without it, as when they fail
// verification, signed queries get NOTAUTH with a TSIG error.
func (h *Handler) WithTSIG() *Handler {
	c := *h
	c.tsig = true
	return &c
}

// tsigRejected answers a signed query that cannot be verified: NOTAUTH and
// an unsigned TSIG record carrying BADKEY, BADTIME or BADSIG (RFC 8945
// section 5.2); without the record when it would not fit a UDP answer. It
// returns the rcode sent.
func (h *Handler) tsigRejected(w dns.ResponseWriter, req *dns.Msg, tcp bool) int {
	t := req.IsTsig()
	code := dns.RcodeBadKey
	if h.tsig {
		switch err := w.TsigStatus(); {
		case errors.Is(err, dns.ErrSecret), errors.Is(err, dns.ErrKeyAlg):
		case errors.Is(err, dns.ErrTime):
			code = dns.RcodeBadTime
		default:
			code = dns.RcodeBadSig
		}
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeNotAuth)
	m.Extra = []dns.RR{&dns.TSIG{Hdr: dns.RR_Header{Name: t.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm: t.Algorithm, TimeSigned: t.TimeSigned, Fudge: t.Fudge, OrigId: req.Id, Error: uint16(code)}}
	b, err := m.Pack()
	if err != nil || (!tcp && len(b) > minUDPSize) {
		m.Extra = nil
		if b, err = m.Pack(); err != nil {
			return dns.RcodeNotAuth
		}
	}
	_, _ = w.Write(b) // the client is gone: nothing to do
	return dns.RcodeNotAuth
}

// signed adds to resp the TSIG record that the server's WriteMsg fills in
// for a query signed with a verified key.
func signed(resp, req *dns.Msg) *dns.Msg {
	if t := req.IsTsig(); t != nil {
		resp.SetTsig(t.Hdr.Name, t.Algorithm, t.Fudge, time.Now().Unix())
	}
	return resp
}

// tsigLen is the room the TSIG record of the answer to req takes: about
// that of the query's own.
func tsigLen(req *dns.Msg) int {
	t := req.IsTsig()
	if t == nil {
		return 0
	}
	buf := make([]byte, dns.MaxMsgSize)
	n, err := dns.PackRR(t, buf, 0, nil, false)
	if err != nil {
		return 0
	}
	return n
}
