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
