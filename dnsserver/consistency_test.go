package dnsserver

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestAnswersFollowZoneContent checks, over random histories of records,
// that every answer follows from the zone's content alone, as a secondary
// that transferred the zone would answer: a name is NXDOMAIN exactly when
// it owns no record and has no descendant that does, and the records of
// an answer are exactly the zone's records of that name and type.
func TestAnswersFollowZoneContent(t *testing.T) {
	cfg := DefaultConfig()
	rng := rand.New(rand.NewPCG(7, 8))
	snap := NewSnapshot(cfg)
	for step := range 150 {
		var batch []Change
		for range 1 + rng.IntN(4) {
			batch = append(batch, sparseChange(rng))
		}
		snap, _ = snap.Apply(int64(step+1), cfg.Prefix, batch)
		checkAgainstZone(t, snap, step)
	}
}

// sparseChange is randomChange with replicas that may lack addresses and
// services that may lack replicas or ports: the shapes whose names own no
// record.
func sparseChange(rng *rand.Rand) Change {
	c := randomChange(rng)
	k, err := ParseEtcdKey(DefaultPrefix, c.Key)
	if err != nil || c.Deleted || rng.IntN(3) != 0 {
		return c
	}
	switch k.Kind {
	case KindReplica:
		if r, err := DecodeReplica(c.Value); err == nil {
			r.Addresses = nil
			c.Value, _ = EncodeReplica(r)
		}
	case KindService:
		c.Value, _ = EncodeService(Service{})
	}
	return c
}

func checkAgainstZone(t *testing.T, snap *Snapshot, step int) {
	t.Helper()
	zone := map[string][]string{} // owner -> records as text
	exists := map[string]bool{}
	for _, rr := range snap.Records() {
		name := rr.Header().Name
		zone[name] = append(zone[name], rr.String())
		for n := name; ; {
			exists[n] = true
			if n == z {
				break
			}
			_, n, _ = strings.Cut(n, ".")
		}
	}
	// Every name the snapshot knows of, and some it does not.
	names := map[string]bool{"nope.ns0.svc." + z: true, "ns9.svc." + z: true, "x.s0.ns0.svc." + z: true, "svc." + z: true}
	for name := range exists {
		names[name] = true
		names["nope."+name] = true
	}
	for id, set := range snap.services {
		base := id.svc + "." + id.ns + ".svc." + z
		for _, key := range append(slices.Collect(maps.Keys(set.names)), slices.Collect(maps.Keys(set.ents))...) {
			if key == "" {
				names[base] = true
			} else {
				names[key+"."+base] = true
			}
		}
		for n := range 4 {
			names[fmt.Sprintf("%s-%d.%s", id.svc, n, base)] = true
		}
		names["primary."+base], names["_pg._tcp."+base], names["_pg._tcp.primary."+base] = true, true, true
	}
	h := NewHandler(fixedSource{snap: snap}, nil)
	for name := range names {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT} {
			resp := h.Answer(query{name: name, qtype: qtype, tcp: true}.msg(), true)
			wantRcode := dns.RcodeSuccess
			if !exists[name] {
				wantRcode = dns.RcodeNameError
			}
			if resp.Rcode != wantRcode {
				t.Fatalf("step %d: %s %s: rcode %s, the zone says %s\n%s", step, name, dns.TypeToString[qtype],
					dns.RcodeToString[resp.Rcode], dns.RcodeToString[wantRcode], strings.Join(zone[name], "\n"))
			}
			var want, got []string
			for _, rr := range zone[name] {
				if strings.Contains(rr, "\tIN\t"+dns.TypeToString[qtype]+"\t") {
					want = append(want, rr)
				}
			}
			for _, rr := range resp.Answer {
				got = append(got, rr.String())
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: %s %s answers\n%s\nthe zone holds\n%s", step, name, dns.TypeToString[qtype],
					strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}
