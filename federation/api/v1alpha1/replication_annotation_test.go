package v1alpha1

import "testing"

func TestReplicationAnnotation(t *testing.T) {
	for _, r := range []Replication{
		{Mode: ReplicationPrimaryReplica},
		{Mode: ReplicationPrimaryReplica, SyncReplicas: 2, SyncReplicaScope: SyncOtherRegion},
		{Mode: ReplicationPrimaryReplica, SyncReplicas: 1, SyncReplicaScope: SyncSameRegion},
	} {
		v := FormatReplicationAnnotation(r)
		n, scope, err := ParseReplicationAnnotation(v)
		want := r.SyncReplicaScope
		if want == "" {
			want = SyncAnywhere
		}
		if err != nil || n != r.SyncReplicas || scope != want {
			t.Errorf("%q read back as %d, %q, %v; want %d, %q", v, n, scope, err, r.SyncReplicas, want)
		}
	}
	if n, scope, err := ParseReplicationAnnotation("syncReplicas=1,future=x"); err != nil || n != 1 || scope != SyncAnywhere {
		t.Errorf("unknown field: %d, %q, %v; want it ignored", n, scope, err)
	}
	for _, bad := range []string{"syncReplicas=-1", "syncReplicas=x", "syncScope=Mars", "syncReplicas"} {
		if _, _, err := ParseReplicationAnnotation(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseReplicationAnnotation checks that every value the hub writes
// reads back as written, and that the agent's reader, on any string,
// never panics and accepts only a count of at least 0 with a known scope,
// whose canonical form reads back the same.
func FuzzParseReplicationAnnotation(f *testing.F) {
	f.Add("syncReplicas=2,syncScope=OtherRegion", int32(1), uint8(2))
	f.Add(" syncReplicas=1 , future=x=y", int32(0), uint8(0))
	f.Add("syncScope=SameRegion,syncScope=Any", int32(2147483647), uint8(3))
	f.Add("syncReplicas=+07", int32(-1), uint8(1))
	f.Add("", int32(0), uint8(0))
	scopes := []SyncReplicaScope{"", SyncAnywhere, SyncSameRegion, SyncOtherRegion}
	f.Fuzz(func(t *testing.T, v string, n int32, scopeIndex uint8) {
		if n >= 0 {
			r := Replication{Mode: ReplicationPrimaryReplica, SyncReplicas: n, SyncReplicaScope: scopes[int(scopeIndex)%len(scopes)]}
			want := r.SyncReplicaScope
			if want == "" {
				want = SyncAnywhere
			}
			w := FormatReplicationAnnotation(r)
			if got, scope, err := ParseReplicationAnnotation(w); err != nil || got != n || scope != want {
				t.Fatalf("%q read back as %d, %q, %v; want %d, %q", w, got, scope, err, n, want)
			}
		}
		got, scope, err := ParseReplicationAnnotation(v)
		if err != nil {
			return
		}
		if got < 0 || (scope != SyncAnywhere && scope != SyncSameRegion && scope != SyncOtherRegion) {
			t.Fatalf("%q accepted as %d, %q", v, got, scope)
		}
		canonical := FormatReplicationAnnotation(Replication{SyncReplicas: got, SyncReplicaScope: scope})
		if n2, s2, err := ParseReplicationAnnotation(canonical); err != nil || n2 != got || s2 != scope {
			t.Fatalf("%q read as %d, %q; its canonical form %q as %d, %q, %v", v, got, scope, canonical, n2, s2, err)
		}
	})
}
