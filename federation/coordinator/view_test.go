package coordinator

import (
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

// member is a MemberCluster in region, reachable or not.
func member(name, region string, reachable bool) *v1alpha1.MemberCluster {
	mc := &v1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.MemberClusterSpec{Region: region}}
	status := metav1.ConditionFalse
	if reachable {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{Type: v1alpha1.MemberReachable, Status: status, Reason: "Test"})
	return mc
}

// dbService is db with three replicas in eu-1, eu-2 and us-1, the last not
// ready, and us-1 unreachable.
func dbService() (*v1alpha1.FederatedStatefulSet, map[string]*v1alpha1.MemberCluster) {
	lag, maxLag := int64(1<<20), metav1.Duration{Duration: 5 * time.Second}
	fss := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas:  3,
			Ports:     []v1alpha1.ServicePort{{Name: "pg", Port: 5432}, {Name: "metrics", Port: 9187, Protocol: "UDP"}},
			Placement: v1alpha1.Placement{PrimaryRegions: []string{"us-east", "eu-west"}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, SyncReplicas: 1,
				SyncReplicaScope: v1alpha1.SyncOtherRegion, RPO: &v1alpha1.RPOBudget{MaxLagBytes: &lag, MaxLag: &maxLag}},
			Failover: &v1alpha1.Failover{Mode: v1alpha1.FailoverManual, DetectionGracePeriod: &metav1.Duration{Duration: 3 * time.Second}},
		},
		Status: v1alpha1.FederatedStatefulSetStatus{
			Ordinals: []v1alpha1.OrdinalRange{{Cluster: "eu-1", Start: 0, Count: 1}, {Cluster: "eu-2", Start: 1, Count: 1}, {Cluster: "us-1", Start: 2, Count: 1}},
			Target:   []v1alpha1.OrdinalRange{{Cluster: "eu-2", Start: 0, Count: 2}, {Cluster: "us-1", Start: 2, Count: 1}},
			ReplicaStatuses: []v1alpha1.ReplicaStatus{
				{Ordinal: 2, Cluster: "us-1", PodIP: "127.13.0.2"},
				{Ordinal: 0, Cluster: "eu-1", PodIP: "127.11.0.2", Ready: true},
				{Ordinal: 1, Cluster: "eu-2", PodIP: "not an IP", Ready: true},
			},
		},
	}
	members := map[string]*v1alpha1.MemberCluster{
		"eu-1": member("eu-1", "eu-west", true), "eu-2": member("eu-2", "eu-west", true), "us-1": member("us-1", "us-east", false),
	}
	return fss, members
}

func TestViewOf(t *testing.T) {
	fss, members := dbService()
	v := viewOf(fss, members, time.Minute)
	p := v.policy
	if p.Mode != failover.Manual || p.SyncReplicas != 1 || p.SyncScope != failover.SyncOtherRegion || p.DetectionGrace != 3*time.Second ||
		p.StepTimeout != time.Minute || *p.RPO.MaxLagBytes != 1<<20 || *p.RPO.MaxLag != 5*time.Second {
		t.Errorf("policy %+v", p)
	}
	if !slices.Equal(v.allowed, []string{"eu-2", "us-1"}) {
		t.Errorf("allowed %v: placement's target decides", v.allowed)
	}
	if !v.complete || len(v.placed) != 3 || v.service != "prod/db" {
		t.Fatalf("view %+v", v)
	}
	if r := v.replica(0); r.cluster != "eu-1" || r.region != "eu-west" || !r.ready || !r.reachable || len(r.addrs) != 1 {
		t.Errorf("replica 0 %+v", r)
	}
	if r := v.replica(1); len(r.addrs) != 0 {
		t.Errorf("replica 1 has addresses %v from a bad pod IP", r.addrs)
	}
	if r := v.replica(2); r.ready || r.reachable || r.region != "us-east" {
		t.Errorf("replica 2 %+v", r)
	}
	if got := v.dns.ports; len(got) != 2 || got[0].Protocol != "tcp" || got[1].Protocol != "udp" {
		t.Errorf("ports %+v", got)
	}
	if n, ok := firstPrimary(&v); n != 2 || ok {
		t.Errorf("first primary %d %v: want db-2 in the first preferred region, not yet (unreachable)", n, ok)
	}
	members["us-1"] = member("us-1", "us-east", true)
	v = viewOf(fss, members, time.Minute)
	if n, ok := firstPrimary(&v); n != 2 || !ok {
		t.Errorf("first primary %d %v, want db-2", n, ok)
	}
	fss.Spec.Placement.PrimaryRegions = []string{"ap-south", "eu-west"}
	v = viewOf(fss, members, time.Minute)
	if n, ok := firstPrimary(&v); n != 0 || !ok {
		t.Errorf("first primary %d %v, want db-0: the lowest ordinal in the first preferred region with a replica", n, ok)
	}
	fss.Status.ReplicaStatuses = fss.Status.ReplicaStatuses[1:]
	v = viewOf(fss, members, time.Minute)
	if _, ok := firstPrimary(&v); ok || v.complete {
		t.Error("a first primary chosen before every ordinal is placed")
	}
}

func TestChanges(t *testing.T) {
	fss, members := dbService()
	v := viewOf(fss, members, time.Minute)
	at := time.Unix(100, 0)
	var s failover.State
	evs := changes(&s, &v, nil, at)
	if len(evs) != 4 {
		t.Fatalf("from nothing: %d events %v, want placement and three replicas", len(evs), evs)
	}
	for _, ev := range evs {
		s, _ = failover.Step(s, ev)
	}
	if evs := changes(&s, &v, nil, at); len(evs) != 0 {
		t.Errorf("no change, yet %v", evs)
	}
	evs = changes(&s, &v, map[int]bool{0: true}, at)
	if len(evs) != 1 || evs[0] != (failover.ReplicaChanged{Replica: "db-0", Cluster: "eu-1", Region: "eu-west", Healthy: true, At: at}) {
		t.Errorf("silent agent of db-0: %v, want db-0 unreachable", evs)
	}
	fss.Spec.Replicas = 2
	v = viewOf(fss, members, time.Minute)
	evs = changes(&s, &v, nil, at)
	if len(evs) != 1 || evs[0] != (failover.ReplicaChanged{Replica: "db-2", Gone: true, At: at}) {
		t.Errorf("scaled down: %v, want db-2 gone", evs)
	}
	fss.Spec.Replicas = 3
	fss.Status.ReplicaStatuses = fss.Status.ReplicaStatuses[1:] // db-2 between clusters
	members["us-1"] = member("us-1", "us-east", true)
	s, _ = failover.Step(s, failover.ReplicaChanged{Replica: "db-2", Cluster: "us-1", Region: "us-east", Healthy: true, Reachable: true, At: at})
	v = viewOf(fss, members, time.Minute)
	evs = changes(&s, &v, nil, at)
	if len(evs) != 1 || evs[0] != (failover.ReplicaChanged{Replica: "db-2", At: at}) {
		t.Errorf("moving replica: %v, want db-2 neither ready nor reachable, where it was", evs)
	}
}

func TestReplicaNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{{"db-0", 0, true}, {"db-12", 12, true}, {"db-012", 0, false}, {"db-", 0, false}, {"db-x", 0, false},
		{"db-2147483647", 2147483647, true}, {"db-2147483648", 0, false}, {"dbx-1", 0, false}, {"db--1", 0, false}} {
		n, ok := ordinalOf("db", tc.name)
		if n != tc.n || ok != tc.ok {
			t.Errorf("ordinalOf(%q) = %d, %v; want %d, %v", tc.name, n, ok, tc.n, tc.ok)
		}
		if ok && replicaName("db", n) != tc.name {
			t.Errorf("replicaName(%d) = %q", n, replicaName("db", n))
		}
	}
	if !strings.HasPrefix(replicaName("my-db", 3), "my-db-") {
		t.Error("replica names do not carry the service's name")
	}
}
