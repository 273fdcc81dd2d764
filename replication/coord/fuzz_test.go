package coord

import (
	"strings"
	"testing"
)

// FuzzKeyLayout checks the key layout both ways: every valid Key survives
// EtcdKey then ParseKey unchanged, and ParseKey on any string never
// panics and accepts only keys EtcdKey produces.
func FuzzKeyLayout(f *testing.F) {
	f.Add("prod", "db", int(KindReport), 3, "", "/fedstate/coord/services/prod/db/reports/3")
	f.Add("", "", int(KindAgent), 0, "eu-1", "/fedstate/coord/agents/eu-1")
	f.Add("a", "b", int(KindEpoch), 0, "", "/fedstate/coord/services/a/b/epoch")
	f.Add("a", "b", int(KindLease), 0, "", "/fedstate/coord/services/a/b/reports/007")
	f.Add("x", "y", int(KindFailoverState), 0, "", "/fedstate/coord/leader/694d")
	f.Add("prod", "db", int(KindCommand), 12, "", "/fedstate/coord/services/prod/db/commands/12")
	f.Fuzz(func(t *testing.T, ns, svc string, kind, replica int, agent, raw string) {
		const prefix = DefaultPrefix
		k := Key{Namespace: ns, Service: svc, Kind: Kind(kind), Replica: replica, Agent: agent}
		if k.Validate() == nil {
			got, err := ParseKey(prefix, k.EtcdKey(prefix))
			if err != nil || got != k {
				t.Fatalf("ParseKey(EtcdKey(%+v)) = %+v, %v", k, got, err)
			}
		}
		for _, s := range []string{raw, prefix + raw, prefix + "services/" + raw} {
			p, err := ParseKey(prefix, s)
			if err != nil {
				continue
			}
			if p.Validate() != nil {
				t.Fatalf("ParseKey(%q) = invalid %+v", s, p)
			}
			if back := p.EtcdKey(prefix); back != s {
				t.Fatalf("ParseKey(%q) = %+v, whose key is %q", s, p, back)
			}
			if !strings.HasPrefix(s, prefix) {
				t.Fatalf("ParseKey accepted %q outside %q", s, prefix)
			}
		}
	})
}

// FuzzDecodeRecords feeds any bytes to every record decoder: none panics,
// whatever one accepts is valid and encodes again, and that encoding is
// canonical (decoding and encoding it gives the same bytes), so the
// value compares of the hub's transactions hold for decoded records too.
func FuzzDecodeRecords(f *testing.F) {
	f.Add([]byte(`{"role":"Primary","position":42,"timeline":2,"time":"2026-01-01T00:00:00.5+01:00","epoch":3,` +
		`"syncAcks":[{"replica":1,"position":40}],"agent":"agent-eu-1","cluster":"eu-1"}`))
	f.Add([]byte(`{"replica":1,"epoch":2,"agent":"agent-eu-1","extra":[1,2]}`))
	f.Add([]byte(`{"replica":0,"epoch":9223372036854775807}`))
	f.Add([]byte(`{"cluster":"eu-1","started":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"kind":"WaitReplay","epoch":4,"primary":2,"position":18446744073709551615,"cluster":"us-1","issued":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"kind":"Init","epoch":1,"primary":0,"cluster":"c","issued":"0001-01-01T00:00:00.000000001Z"}`))
	f.Add([]byte("7"))
	f.Add([]byte("007"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecoded(t, b, DecodeReport)
		checkDecoded(t, b, DecodeHolder)
		checkDecoded(t, b, DecodePrimary)
		checkDecoded(t, b, DecodeAgentInfo)
		checkDecoded(t, b, DecodeCommand)
		if e, err := parseEpoch(b); err == nil && (e < 1 || formatEpoch(e) != string(b)) {
			t.Fatalf("parseEpoch(%q) = %d, stored as %q", b, e, formatEpoch(e))
		}
	})
}

// checkDecoded checks one decoder on b: see FuzzDecodeRecords.
func checkDecoded[T validator](t *testing.T, b []byte, decode func([]byte) (T, error)) {
	t.Helper()
	v, err := decode(b)
	if err != nil {
		return
	}
	if err := v.Validate(); err != nil {
		t.Fatalf("decoded %q into an invalid %T: %v", b, v, err)
	}
	s, err := encode(v)
	if err != nil {
		t.Fatalf("decoded %q into %+v, which does not encode: %v", b, v, err)
	}
	again, err := decode([]byte(s))
	if err != nil {
		t.Fatalf("encoding %q of a decoded %T does not decode: %v", s, v, err)
	}
	if s2, err := encode(again); err != nil || s2 != s {
		t.Fatalf("encoding is not canonical: %q, then %q (%v)", s, s2, err)
	}
}
