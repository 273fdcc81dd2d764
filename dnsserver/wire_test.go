package dnsserver

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestCachedAnswersMatchGeneralPath asks every name of the fixture zone,
// and some that do not exist, every cached and some uncached types, over
// both transports, with and without EDNS (several sizes, DO set or not),
// RD and CD set or not, in lower, upper and mixed case, fresh and stale:
// the bytes ServeDNS writes, from a packed answer or not, must be the
// bytes of Answer, the general path, every time.
func TestCachedAnswersMatchGeneralPath(t *testing.T) {
	snap := fixtureSnapshot(t)
	names := map[string]bool{"nope.prod.svc." + z: true, "us-1.db.prod.svc." + z: true, "example.com.": true}
	for _, rr := range snap.Records() {
		names[rr.Header().Name] = true
	}
	rng := rand.New(rand.NewPCG(5, 6))
	type variant struct {
		tcp     bool
		edns    uint16
		do      bool
		rd, cd  bool
		letters string
	}
	var variants []variant
	for _, tcp := range []bool{false, true} {
		for _, edns := range []uint16{0, 512, 1232, 4096} {
			for _, letters := range []string{"lower", "upper", "mixed"} {
				variants = append(variants, variant{tcp: tcp, edns: edns, do: rng.IntN(2) == 0,
					rd: rng.IntN(2) == 0, cd: rng.IntN(2) == 0, letters: letters})
			}
		}
	}
	cached, compared := map[uint16]int{}, 0
	for _, stale := range []bool{false, true} {
		h := NewHandler(fixedSource{snap: snap, stale: stale}, nil)
		for name := range names {
			for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT, dns.TypeMX, dns.TypeSOA} {
				for _, v := range variants {
					q := query{name: recase(rng, name, v.letters), qtype: qtype, edns: v.edns, tcp: v.tcp}
					req := q.msg()
					req.Id = uint16(rng.Uint32())
					req.RecursionDesired, req.CheckingDisabled = v.rd, v.cd
					if o := req.IsEdns0(); o != nil {
						o.SetDo(v.do)
					}
					want, err := h.Answer(req, v.tcp).Pack()
					if err != nil {
						t.Fatal(err)
					}
					for round := range 2 { // the first may pack the template, the second uses it
						w := &recorder{tcp: v.tcp}
						h.ServeDNS(w, req)
						var got []byte
						switch {
						case len(w.wire) == 1:
							got = w.wire[0]
							cached[qtype]++
						case len(w.out) == 1:
							if got, err = w.out[0].Pack(); err != nil {
								t.Fatal(err)
							}
						default:
							t.Fatalf("%s %s: %d answers written", q.name, dns.TypeToString[qtype], len(w.out))
						}
						if !bytes.Equal(got, want) {
							gm, wm := new(dns.Msg), new(dns.Msg)
							_, _ = gm.Unpack(got), wm.Unpack(want)
							t.Fatalf("%s %s %+v stale=%v round %d: ServeDNS wrote\n%s\nAnswer gives\n%s", q.name,
								dns.TypeToString[qtype], v, stale, round, zoneText(gm, len(got)), zoneText(wm, len(want)))
						}
						compared++
					}
				}
			}
		}
	}
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT} {
		if cached[qtype] == 0 {
			t.Errorf("no %s answer came from a packed template", dns.TypeToString[qtype])
		}
	}
	t.Logf("%d answers compared; from packed templates: %v", compared, cached)
}

// recase writes name in lower, upper or random mixed case.
func recase(rng *rand.Rand, name, letters string) string {
	switch letters {
	case "upper":
		return strings.ToUpper(name)
	case "mixed":
		var b strings.Builder
		for _, c := range name {
			if rng.IntN(2) == 0 {
				c = []rune(strings.ToUpper(string(c)))[0]
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return name
}
