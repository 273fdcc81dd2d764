package dnsserver

import (
	"errors"
	"strings"
	"testing"
)

func TestKeyLayout(t *testing.T) {
	const zone = "fedstate.local."
	tests := []struct {
		name    string
		key     Key
		etcdKey string
		dnsName string
	}{
		{name: "service", key: Key{Namespace: "prod", Service: "db", Kind: KindService},
			etcdKey: "/p/prod/db/service", dnsName: "db.prod.svc.fedstate.local."},
		{name: "primary", key: Key{Namespace: "prod", Service: "db", Kind: KindPrimary},
			etcdKey: "/p/prod/db/primary", dnsName: "primary.db.prod.svc.fedstate.local."},
		{name: "replica", key: Key{Namespace: "prod", Service: "db", Kind: KindReplica, Ordinal: 3},
			etcdKey: "/p/prod/db/replicas/3", dnsName: "db-3.db.prod.svc.fedstate.local."},
		{name: "service named primary", key: Key{Namespace: "a", Service: "primary", Kind: KindPrimary},
			etcdKey: "/p/a/primary/primary", dnsName: "primary.primary.a.svc.fedstate.local."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.key.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := tc.key.EtcdKey("/p/"); got != tc.etcdKey {
				t.Errorf("EtcdKey = %q, want %q", got, tc.etcdKey)
			}
			if got := tc.key.DNSName(zone); got != tc.dnsName {
				t.Errorf("DNSName = %q, want %q", got, tc.dnsName)
			}
			if got, err := ParseEtcdKey("/p/", tc.etcdKey); err != nil || got != tc.key {
				t.Errorf("ParseEtcdKey = %+v, %v; want %+v", got, err, tc.key)
			}
			if got, err := KeyForName(zone, strings.ToUpper(tc.dnsName)); err != nil || got != tc.key {
				t.Errorf("KeyForName = %+v, %v; want %+v", got, err, tc.key)
			}
		})
	}
}

func TestKeyLayoutRejects(t *testing.T) {
	for _, k := range []string{
		"/q/prod/db/service", "/p/prod/db/replicas/03", "/p/prod/db/replicas/-1",
		"/p/prod/db/replicas/2147483648", "/p/Prod/db/service", "/p/prod/db/other",
		"/p/prod/db/service/x", "/p/prod//service", "/p/prod/db-/primary",
	} {
		if got, err := ParseEtcdKey("/p/", k); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseEtcdKey(%q) = %+v, %v; want ErrBadKey", k, got, err)
		}
	}
	for _, n := range []string{
		"db.prod.svc.other.", "prod.svc.fedstate.local.", "db.prod.svcx.fedstate.local.",
		"x.db.prod.svc.fedstate.local.", "db-03.db.prod.svc.fedstate.local.",
		"a.b.db.prod.svc.fedstate.local.", "fedstate.local.",
	} {
		if got, err := KeyForName("fedstate.local.", n); !errors.Is(err, ErrBadKey) {
			t.Errorf("KeyForName(%q) = %+v, %v; want ErrBadKey", n, got, err)
		}
	}
}

// FuzzKeyRoundTrip checks that etcd keys and DNS names map to keys and back
// without loss, for any input the parsers accept.
func FuzzKeyRoundTrip(f *testing.F) {
	f.Add("/fedstate/dns/prod/db/replicas/12", "db-12.db.prod.svc.fedstate.local.")
	f.Add("/fedstate/dns/a/primary/primary", "PRIMARY.db.prod.svc.fedstate.local")
	f.Add("/fedstate/dns/a/b/service", "b.a.svc.fedstate.local.")
	f.Fuzz(func(t *testing.T, etcdKey, name string) {
		const prefix, zone = DefaultPrefix, "fedstate.local."
		if k, err := ParseEtcdKey(prefix, etcdKey); err == nil {
			if got := k.EtcdKey(prefix); got != etcdKey {
				t.Fatalf("EtcdKey(ParseEtcdKey(%q)) = %q", etcdKey, got)
			}
			if back, err := KeyForName(zone, k.DNSName(zone)); err != nil || back != k {
				t.Fatalf("KeyForName(DNSName(%+v)) = %+v, %v", k, back, err)
			}
		}
		if k, err := KeyForName(zone, name); err == nil {
			want := strings.ToLower(name)
			if !strings.HasSuffix(want, ".") {
				want += "."
			}
			if got := k.DNSName(zone); got != want {
				t.Fatalf("DNSName(KeyForName(%q)) = %q", name, got)
			}
			if back, err := ParseEtcdKey(prefix, k.EtcdKey(prefix)); err != nil || back != k {
				t.Fatalf("ParseEtcdKey(EtcdKey(%+v)) = %+v, %v", k, back, err)
			}
		}
	})
}
