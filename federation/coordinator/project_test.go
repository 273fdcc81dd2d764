package coordinator

import (
	"maps"
	"net/netip"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// failedOver is db after a failover from db-0 to db-1 in epoch 5: db-0 is
// fenced, db-2 follows db-1 and is 100 bytes behind, db-3 joined and has
// no data yet.
func failedOver() failover.State {
	return failover.State{
		Service: "prod/db", Policy: failover.Policy{Mode: failover.Automatic},
		Epoch: 5, Primary: "db-1", Phase: failover.Phase{Name: failover.Stable}, Fork: 1000,
		Marks: []failover.Mark{{Position: 1200, At: t0}},
		Replicas: []failover.Replica{
			{Name: "db-0", Cluster: "eu-1", Region: "eu", Epoch: 4, Position: 1100, Fenced: true, Role: failover.RoleFenced},
			{Name: "db-1", Cluster: "eu-2", Region: "eu", Epoch: 5, Position: 1200, Role: failover.RolePrimary, ReportedAt: t0},
			{Name: "db-2", Cluster: "us-1", Region: "us", Epoch: 5, Position: 1100, Role: failover.RoleAsyncReplica, ReportedAt: t0},
			{Name: "db-3", Cluster: "us-1", Region: "us"},
		},
		Condition: failover.Condition{Type: failover.ConditionFailingOver, Status: failover.ConditionFalse, Reason: failover.ReasonPrimaryHealthy, Message: "db-1 (eu-2) is primary in epoch 5"},
		History: []failover.Record{{Epoch: 5, Cause: failover.CauseLeaseExpired, From: "db-0", To: "db-1", DetectedAt: t0,
			FencedAt: t0, CommittedAt: t0.Add(time.Second), PromotedAt: t0.Add(2 * time.Second), PublishedAt: t0.Add(2 * time.Second), DataLossBytes: 100}},
	}
}

func TestCommandFor(t *testing.T) {
	s := failedOver()
	tests := []struct {
		name   string
		action failover.Action
		n      int
		want   coord.Command
		ok     bool
	}{
		{name: "promote", action: failover.Promote{Replica: "db-1", Epoch: 5}, n: 1,
			want: coord.Command{Kind: coord.CommandPromote, Epoch: 5, Primary: 1, Cluster: "eu-2"}, ok: true},
		{name: "the first promotion is Init", action: failover.Promote{Replica: "db-1", Epoch: 1}, n: 1,
			want: coord.Command{Kind: coord.CommandInit, Epoch: 1, Primary: 1, Cluster: "eu-2"}, ok: true},
		{name: "follow", action: failover.Follow{Replica: "db-2", Primary: "db-1", Epoch: 5}, n: 2,
			want: coord.Command{Kind: coord.CommandFollow, Epoch: 5, Primary: 1, Cluster: "us-1"}, ok: true},
		{name: "follow without data is Seed", action: failover.Follow{Replica: "db-3", Primary: "db-1", Epoch: 5}, n: 3,
			want: coord.Command{Kind: coord.CommandSeed, Epoch: 5, Primary: 1, Cluster: "us-1"}, ok: true},
		{name: "rewind", action: failover.Rewind{Replica: "db-0", Primary: "db-1", Epoch: 5}, n: 0,
			want: coord.Command{Kind: coord.CommandRewind, Epoch: 5, Primary: 1, Cluster: "eu-1"}, ok: true},
		{name: "fence names the primary", action: failover.Fence{Replica: "db-0", Epoch: 5}, n: 0,
			want: coord.Command{Kind: coord.CommandFence, Epoch: 5, Primary: 1, Cluster: "eu-1"}, ok: true},
		{name: "demote", action: failover.Demote{Replica: "db-1", Epoch: 5}, n: 1,
			want: coord.Command{Kind: coord.CommandDemote, Epoch: 5, Primary: 1, Cluster: "eu-2"}, ok: true},
		{name: "wait replay", action: failover.WaitReplay{Replica: "db-2", Position: 1234, Epoch: 5}, n: 2,
			want: coord.Command{Kind: coord.CommandWaitReplay, Epoch: 5, Primary: 1, Position: 1234, Cluster: "us-1"}, ok: true},
		{name: "unknown replica", action: failover.Follow{Replica: "db-9", Primary: "db-1", Epoch: 5}},
		{name: "not a command", action: failover.SetCondition{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, c, ok := commandFor(tc.action, &s, "db", t0)
			tc.want.Issued = t0
			if ok != tc.ok || (ok && (n != tc.n || c != tc.want)) {
				t.Errorf("commandFor(%v) = %d %+v %v, want %d %+v %v", tc.action, n, c, ok, tc.n, tc.want, tc.ok)
			}
		})
	}
}

func TestSeeds(t *testing.T) {
	s := failedOver()
	have := map[int]coord.Command{0: {Cluster: "eu-1"}, 1: {Cluster: "eu-2"}, 2: {Cluster: "us-1"}}
	got := seeds(&s, "db", have, t0)
	want := map[int]coord.Command{3: {Kind: coord.CommandSeed, Epoch: 5, Primary: 1, Cluster: "us-1", Issued: t0}}
	if !maps.Equal(got, want) {
		t.Errorf("seeds %v, want %v", got, want)
	}
	have[3] = coord.Command{Cluster: "us-1"}
	if got := seeds(&s, "db", have, t0); len(got) != 0 {
		t.Errorf("a replica told already is seeded again: %v", got)
	}
	have[2] = coord.Command{Kind: coord.CommandFollow, Cluster: "eu-1"} // its ordinal moved to us-1 since
	want = map[int]coord.Command{2: {Kind: coord.CommandSeed, Epoch: 5, Primary: 1, Cluster: "us-1", Issued: t0}}
	if got := seeds(&s, "db", have, t0); !maps.Equal(got, want) {
		t.Errorf("seeds after a move %v, want %v", got, want)
	}
	s.Phase = failover.Phase{Name: failover.PrimaryLost}
	if got := seeds(&s, "db", map[int]coord.Command{}, t0); len(got) != 0 {
		t.Errorf("seeds while the primary is lost: %v", got)
	}
}

func TestProject(t *testing.T) {
	s := failedOver()
	st := v1alpha1.FederatedStatefulSetStatus{ReplicaStatuses: []v1alpha1.ReplicaStatus{
		{Ordinal: 0, Cluster: "eu-1"}, {Ordinal: 1, Cluster: "eu-2"}, {Ordinal: 2, Cluster: "us-1"}, {Ordinal: 3, Cluster: "us-1"}, {Ordinal: 4}}}
	project(&st, &s, "db", 7)
	if p := st.Primary; p == nil || p.Ordinal != 1 || p.Cluster != "eu-2" || p.Epoch != 5 || p.Since == nil || !p.Since.Time.Equal(t0.Add(time.Second)) {
		t.Errorf("primary %+v", st.Primary)
	}
	roles := []v1alpha1.ReplicaRole{v1alpha1.RoleFenced, v1alpha1.RolePrimary, v1alpha1.RoleAsyncReplica, v1alpha1.RoleUnknown, v1alpha1.RoleUnknown}
	for i, rs := range st.ReplicaStatuses {
		if rs.Role != roles[i] {
			t.Errorf("replica %d role %s, want %s", i, rs.Role, roles[i])
		}
		if wantLag := i == 2; (rs.LagBytes != nil) != wantLag || (wantLag && *rs.LagBytes != 100) {
			t.Errorf("replica %d lag %v", i, rs.LagBytes)
		}
	}
	c := meta.FindStatusCondition(st.Conditions, v1alpha1.ServiceFailingOver)
	if c == nil || c.Status != "False" || c.Reason != "PrimaryHealthy" || c.ObservedGeneration != 7 {
		t.Errorf("condition %+v", c)
	}
	if len(st.FailoverHistory) != 1 {
		t.Fatalf("history %+v", st.FailoverHistory)
	}
	r := st.FailoverHistory[0]
	if r.Reason != "LeaseExpired" || *r.FromOrdinal != 0 || r.ToOrdinal != 1 || r.Epoch != 5 || r.RTO.Duration != 2*time.Second ||
		*r.DataLossBytes != 100 || !r.PublishedAt.Time.Equal(t0.Add(2*time.Second)) || !r.Time.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("record %+v", r)
	}
	if r.MeasuredLossBytes != nil || r.LostTransactions != nil || r.LossMeasuredAt != nil {
		t.Errorf("record %+v: a measured loss before the old primary returned", r)
	}
	again := *st.DeepCopy()
	project(&again, &s, "db", 7)
	if !meta.IsStatusConditionFalse(again.Conditions, v1alpha1.ServiceFailingOver) || len(again.FailoverHistory) != 1 {
		t.Error("projecting twice changed the status")
	}

	// The old primary returned and measured what it lost.
	s.History[0].MeasuredLossBytes, s.History[0].LostTransactions = 4096, 3
	s.History[0].LossMeasuredAt = t0.Add(time.Minute + 300*time.Millisecond)
	project(&again, &s, "db", 7)
	r = again.FailoverHistory[0]
	if r.MeasuredLossBytes == nil || *r.MeasuredLossBytes != 4096 || r.LostTransactions == nil || *r.LostTransactions != 3 ||
		r.LossMeasuredAt == nil || !r.LossMeasuredAt.Time.Equal(t0.Add(time.Minute)) || *r.DataLossBytes != 100 {
		t.Errorf("record with the measured loss %+v", r)
	}
}

func TestDNSRecords(t *testing.T) {
	fss, members := dbService()
	members["us-1"] = member("us-1", "us-east", true)
	fss.Status.ReplicaStatuses[2].PodIP = "127.12.0.2" // db-1 gets an address
	v := viewOf(fss, members, time.Minute)
	w, err := dnsserver.NewWriter(dnsserver.DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := failedOver()
	s.Replicas[2].SyncAcked = 1200
	want, err := desiredRecords(w, "prod", &v, &s)
	if err != nil {
		t.Fatal(err)
	}
	key := func(kind dnsserver.Kind, n int) string {
		return dnsserver.Key{Namespace: "prod", Service: "db", Kind: kind, Ordinal: n}.EtcdKey(dnsserver.DefaultPrefix)
	}
	if len(want) != 4 {
		t.Fatalf("records %v, want the service and three replicas", want)
	}
	roles := map[int]dnsserver.Role{0: dnsserver.RoleFenced, 1: dnsserver.RoleAsyncReplica, 2: dnsserver.RoleSyncStandby}
	for n, role := range roles {
		r, err := dnsserver.DecodeReplica([]byte(want[key(dnsserver.KindReplica, n)]))
		if err != nil || r.Role != role {
			t.Errorf("record of db-%d: %+v %v, want role %s", n, r, err, role)
		}
	}
	if r, _ := dnsserver.DecodeReplica([]byte(want[key(dnsserver.KindReplica, 2)])); r.Ready || r.Addresses[0] != netip.MustParseAddr("127.13.0.2") {
		t.Errorf("record of db-2 %+v: not ready, with its pod IP", r)
	}

	primary := key(dnsserver.KindPrimary, 0)
	have := records{primary: `{"ordinal":1,"epoch":5}`, key(dnsserver.KindReplica, 0): want[key(dnsserver.KindReplica, 0)],
		key(dnsserver.KindReplica, 7): `{}`}
	ops := diff(dnsserver.DefaultPrefix, "prod", "db", have, want)
	applied(have, ops)
	if len(ops.Then) != 4 {
		t.Errorf("%d operations, want three puts and one delete", len(ops.Then))
	}
	if _, ok := have[key(dnsserver.KindReplica, 7)]; ok {
		t.Error("the record of a replica that is gone was kept")
	}
	if have[primary] != `{"ordinal":1,"epoch":5}` {
		t.Error("the primary record was touched outside a promotion")
	}
	if ops := diff(dnsserver.DefaultPrefix, "prod", "db", have, want); len(ops.Then) != 0 {
		t.Errorf("nothing to change, yet %d operations", len(ops.Then))
	}
	off := false
	fss.Spec.DNS = &v1alpha1.DNS{Enabled: &off}
	v = viewOf(fss, members, time.Minute)
	none, _ := desiredRecords(w, "prod", &v, &s)
	if ops := diff(dnsserver.DefaultPrefix, "prod", "db", have, none); len(ops.Then) != 4 {
		t.Errorf("DNS disabled: %d operations, want the service and three replicas deleted", len(ops.Then))
	}
}
