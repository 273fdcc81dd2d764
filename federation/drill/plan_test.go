package drill

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill/load"
)

var regions = map[string]string{"eu-1": "eu-west", "eu-2": "eu-west", "us-1": "us-east", "ap-1": "ap-south"}

func service(replicas ...v1alpha1.ReplicaStatus) *v1alpha1.FederatedStatefulSet {
	fss := &v1alpha1.FederatedStatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "demo"}}
	fss.Status.Primary = &v1alpha1.PrimaryStatus{Ordinal: 0, Cluster: "eu-1", Epoch: 1}
	fss.Status.ReplicaStatuses = replicas
	return fss
}

func replica(n int32, cluster string, role v1alpha1.ReplicaRole, lag *int64) v1alpha1.ReplicaStatus {
	return v1alpha1.ReplicaStatus{Ordinal: n, Cluster: cluster, Ready: true, Role: role, LagBytes: lag}
}

func TestReplicaOutside(t *testing.T) {
	cases := []struct {
		name     string
		replicas []v1alpha1.ReplicaStatus
		want     string
	}{
		{name: "sync standby first", want: "db-3", replicas: []v1alpha1.ReplicaStatus{
			replica(0, "eu-1", v1alpha1.RolePrimary, nil), replica(1, "eu-2", v1alpha1.RoleSyncStandby, ptr.To[int64](0)),
			replica(2, "us-1", v1alpha1.RoleAsyncReplica, ptr.To[int64](0)), replica(3, "ap-1", v1alpha1.RoleSyncStandby, ptr.To[int64](10))}},
		{name: "least lag, then lowest ordinal", want: "db-2", replicas: []v1alpha1.ReplicaStatus{
			replica(0, "eu-1", v1alpha1.RolePrimary, nil), replica(3, "us-1", v1alpha1.RoleAsyncReplica, ptr.To[int64](5)),
			replica(2, "ap-1", v1alpha1.RoleAsyncReplica, ptr.To[int64](5)), replica(1, "us-1", v1alpha1.RoleAsyncReplica, nil)}},
		{name: "not ready or fenced", want: "", replicas: []v1alpha1.ReplicaStatus{
			replica(0, "eu-1", v1alpha1.RolePrimary, nil), {Ordinal: 1, Cluster: "us-1", Role: v1alpha1.RoleSyncStandby},
			replica(2, "ap-1", v1alpha1.RoleFenced, nil), replica(3, "eu-2", v1alpha1.RoleSyncStandby, nil)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := replicaOutside(service(c.replicas...), regions, "eu-west")
			if got != c.want || (err != nil) != (c.want == "") {
				t.Errorf("replicaOutside = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestFollows(t *testing.T) {
	cases := []struct {
		name    string
		replica v1alpha1.ReplicaStatus
		want    bool
	}{
		{name: "sync standby", replica: replica(0, "eu-1", v1alpha1.RoleSyncStandby, ptr.To[int64](0)), want: true},
		{name: "async replica", replica: replica(0, "eu-1", v1alpha1.RoleAsyncReplica, ptr.To[int64](4096)), want: true},
		{name: "standby of an older epoch", replica: replica(0, "eu-1", v1alpha1.RoleSyncStandby, nil)},
		{name: "fenced", replica: replica(0, "eu-1", v1alpha1.RoleFenced, nil)},
		{name: "still primary", replica: replica(0, "eu-1", v1alpha1.RolePrimary, nil)},
		{name: "not ready", replica: v1alpha1.ReplicaStatus{Ordinal: 0, Cluster: "eu-1", Role: v1alpha1.RoleAsyncReplica, LagBytes: ptr.To[int64](0)}},
		{name: "another replica", replica: replica(1, "us-1", v1alpha1.RoleSyncStandby, ptr.To[int64](0))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := follows(service(c.replica), "db-0"); got != c.want {
				t.Errorf("follows(db-0) = %v, want %v", got, c.want)
			}
		})
	}
}

func TestAbortReason(t *testing.T) {
	pending := &v1alpha1.DrillRequest{ID: "u-1", To: "us-east", RequestedAt: *mt(0), Epoch: 1, Phase: v1alpha1.RequestAccepted}
	noCandidate := func(fss *v1alpha1.FederatedStatefulSet) {
		fss.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ServiceFailingOver, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonNoCandidate, Message: "db-1: behind the RPO budget"}}
	}
	cases := []struct {
		name    string
		abort   v1alpha1.DrillAbort
		now     float64
		pending *v1alpha1.DrillRequest
		mutate  func(*v1alpha1.FederatedStatefulSet)
		want    string
	}{
		{name: "nothing wrong", abort: v1alpha1.DrillAbort{MaxRTO: &metav1.Duration{Duration: 5 * time.Second}}, now: 4, pending: pending},
		{name: "maxRTO passed", abort: v1alpha1.DrillAbort{MaxRTO: &metav1.Duration{Duration: 5 * time.Second}}, now: 6, pending: pending,
			want: "did not complete within maxRTO 5s"},
		{name: "maxRTO passed after success", abort: v1alpha1.DrillAbort{MaxRTO: &metav1.Duration{Duration: 5 * time.Second}}, now: 6,
			pending: &v1alpha1.DrillRequest{RequestedAt: *mt(0), Phase: v1alpha1.RequestSucceeded}},
		{name: "no candidate by default", now: 1, pending: pending, mutate: noCandidate, want: "no replica it may promote: db-1: behind the RPO budget"},
		{name: "no candidate ignored", abort: v1alpha1.DrillAbort{OnNoCandidate: ptr.To(false)}, now: 1, pending: pending, mutate: noCandidate},
		{name: "data loss over budget", abort: v1alpha1.DrillAbort{MaxDataLossBytes: ptr.To[int64](100)}, now: 2,
			pending: &v1alpha1.DrillRequest{RequestedAt: *mt(0), Phase: v1alpha1.RequestSucceeded, Epoch: 1},
			mutate: func(fss *v1alpha1.FederatedStatefulSet) {
				fss.Status.FailoverHistory = []v1alpha1.FailoverRecord{switchover(2, 0, 512)}
			}, want: "epoch 2 lost 512 bytes of log, over maxDataLossBytes 100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fss := service()
			if c.mutate != nil {
				c.mutate(fss)
			}
			var reqs []v1alpha1.DrillRequest
			if c.pending != nil {
				reqs = []v1alpha1.DrillRequest{*c.pending}
			}
			got := abortReason(c.abort, at(c.now), c.pending, reqs, fss)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("abortReason = %q, want %q", got, c.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	created := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	drill := func(schedule string, phase v1alpha1.DrillPhase, last *time.Time) *v1alpha1.FailoverDrill {
		d := &v1alpha1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)}}
		d.Spec.Schedule, d.Status.Phase = schedule, phase
		if last != nil {
			d.Status.LastScheduleTime = &metav1.Time{Time: *last}
		}
		return d
	}
	clock := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, time.UTC) }
	last := clock(10, 10)
	cases := []struct {
		name            string
		d               *v1alpha1.FailoverDrill
		now             time.Time
		ok              bool
		scheduled, next time.Time
		err             bool
	}{
		{name: "once, new", d: drill("", "", nil), now: clock(10, 1), ok: true},
		{name: "once, finished", d: drill("", v1alpha1.DrillSucceeded, nil), now: clock(10, 1)},
		{name: "not yet", d: drill("*/5 * * * *", v1alpha1.DrillPending, nil), now: clock(10, 4), next: clock(10, 5)},
		{name: "the latest missed time", d: drill("*/5 * * * *", v1alpha1.DrillPending, nil), now: clock(10, 11), ok: true,
			scheduled: clock(10, 10), next: clock(10, 15)},
		{name: "after a run", d: drill("*/5 * * * *", v1alpha1.DrillSucceeded, &last), now: clock(10, 12), next: clock(10, 15)},
		{name: "descriptor", d: drill("@every 1h", "", nil), now: clock(10, 1), err: true},
		{name: "six fields", d: drill("0 */5 * * * *", "", nil), now: clock(10, 1), err: true},
		{name: "bad field", d: drill("61 * * * *", "", nil), now: clock(10, 1), err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, scheduled, next, err := due(c.d, c.now)
			if (err != nil) != c.err {
				t.Fatalf("due error = %v, want error %v", err, c.err)
			}
			if ok != c.ok || !scheduled.Equal(c.scheduled) || !next.Equal(c.next) {
				t.Errorf("due = %v, %s, %s; want %v, %s, %s", ok, scheduled, next, c.ok, c.scheduled, c.next)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	uid := "0b6f5f0e-2a4c-4a77-9d8e-6a1d6f0c9b21"
	for _, c := range []struct {
		run  int32
		n    int
		want string
	}{{1, 0, uid + "-1"}, {1, 1, uid + "-2"}, {3, 0, uid + "-5"}} {
		if got := requestID(uid, c.run, c.n); got != c.want || len(got) > 63 {
			t.Errorf("requestID(run %d, %d) = %q, want %q", c.run, c.n, got, c.want)
		}
	}
}

func TestSettleWait(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	done := metav1.NewMicroTime(t0)
	drill := func(completed *metav1.MicroTime) *v1alpha1.FailoverDrill {
		return &v1alpha1.FailoverDrill{Status: v1alpha1.FailoverDrillStatus{Requests: []v1alpha1.DrillRequest{{ID: "a-1", CompletedAt: completed}}}}
	}
	write := func(invoke time.Duration, outcome load.Outcome) load.Op {
		return load.Op{Kind: load.Write, Invoke: t0.Add(invoke), Return: t0.Add(invoke + 5*time.Millisecond), Outcome: outcome}
	}
	cases := []struct {
		name string
		d    *v1alpha1.FailoverDrill
		ops  []load.Op
		now  time.Duration
		want time.Duration
	}{
		{"no request", &v1alpha1.FailoverDrill{}, nil, time.Second, 0},
		{"request under way", drill(nil), nil, time.Second, 0},
		{"no write since", drill(&done), []load.Op{write(-time.Second, load.OK), write(500*time.Millisecond, load.ErrReadOnly)}, time.Second, 9 * time.Second},
		{"a read does not count", drill(&done), []load.Op{{Kind: load.Read, Invoke: t0.Add(time.Second), Outcome: load.OK}}, 2 * time.Second, 8 * time.Second},
		{"acknowledged since", drill(&done), []load.Op{write(800*time.Millisecond, load.OK), write(900*time.Millisecond, load.ErrConnect)}, time.Second, 0},
		{"bound passed", drill(&done), []load.Op{write(500*time.Millisecond, load.ErrDNS)}, 11 * time.Second, 0},
	}
	for _, c := range cases {
		if got := settleWait(c.d, c.ops, t0.Add(c.now)); got != c.want {
			t.Errorf("%s: settleWait = %v, want %v", c.name, got, c.want)
		}
	}
}
