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
