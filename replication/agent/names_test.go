package agent

import (
	"testing"

	"github.com/fedstate/fedstate/dnsserver"
)

// FuzzOrdinalOf checks the pod name parser the agent maps pod events to
// replicas with: every replica's pod name reads back as its ordinal, and
// a name it accepts is exactly the pod name of that ordinal (so "db-03"
// or "db-+3" never stand for replica 3).
func FuzzOrdinalOf(f *testing.F) {
	f.Add("db", 3, "db-3")
	f.Add("db", 0, "db-03")
	f.Add("pg-eu", 12, "pg-eu-12-1")
	f.Add("a", 1<<31, "a--1")
	f.Add("", 7, "-7")
	f.Fuzz(func(t *testing.T, svc string, n int, name string) {
		if n >= 0 && n <= dnsserver.MaxOrdinal {
			if got, ok := ordinalOf(svc, replicaName(svc, n)); !ok || got != n {
				t.Fatalf("ordinalOf(%q, %q) = %d, %v; want %d", svc, replicaName(svc, n), got, ok, n)
			}
		}
		if got, ok := ordinalOf(svc, name); ok && (got < 0 || replicaName(svc, got) != name) {
			t.Fatalf("ordinalOf(%q, %q) = %d, whose pod is %q", svc, name, got, replicaName(svc, got))
		}
	})
}
