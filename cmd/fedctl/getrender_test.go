package main

import (
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// fixtureClusters are three members: us-1 healthy, eu-1 tainted for
// maintenance with its agent suspected by gossip, ap-1 unreachable and
// tainted by a drill, and a new one not probed yet.
func fixtureClusters() []v1alpha1.MemberCluster {
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, LastTransitionTime: at(-time.Hour)}
	}
	mc := func(name, region, zone string, created time.Duration, conds ...metav1.Condition) v1alpha1.MemberCluster {
		return v1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: at(created)},
			Spec: v1alpha1.MemberClusterSpec{Region: region, Zone: zone}, Status: v1alpha1.MemberClusterStatus{Conditions: conds}}
	}
	us := mc("us-1", "us-east", "us-east-a", -30*24*time.Hour,
		cond(v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded),
		cond(v1alpha1.MemberAgentAlive, metav1.ConditionTrue, v1alpha1.ReasonSessionAlive))
	eu := mc("eu-1", "eu-west", "eu-west-b", -26*time.Hour,
		cond(v1alpha1.MemberReady, metav1.ConditionTrue, v1alpha1.ReasonProbeSucceeded),
		cond(v1alpha1.MemberAgentAlive, metav1.ConditionUnknown, v1alpha1.ReasonGossipSuspect))
	eu.Spec.Taints = []v1alpha1.Taint{{Key: "fedstate.io/maintenance", Effect: v1alpha1.TaintNoSchedule}}
	ap := mc("ap-1", "ap-south", "", -3*time.Hour,
		cond(v1alpha1.MemberReady, metav1.ConditionFalse, v1alpha1.ReasonProbeFailed),
		cond(v1alpha1.MemberAgentAlive, metav1.ConditionFalse, v1alpha1.ReasonNoSession))
	ap.Spec.Taints = []v1alpha1.Taint{{Key: v1alpha1.TaintDrill, Value: "6c1d", Effect: v1alpha1.TaintNoSchedule},
		{Key: "fedstate.io/evacuate", Effect: v1alpha1.TaintNoExecute}}
	fresh := mc("eu-2", "eu-west", "eu-west-a", -20*time.Second)
	return []v1alpha1.MemberCluster{us, eu, ap, fresh}
}

// fixtureServices are prod/db and prod/kafka of the status fixtures and a
// service of another namespace that has no primary yet.
func fixtureServices() []v1alpha1.FederatedStatefulSet {
	db, kafka := fixturePostgres(), fixtureNative()
	db.CreationTimestamp, kafka.CreationTimestamp = at(-72*time.Hour), at(-24*time.Hour)
	fresh := v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "ledger", CreationTimestamp: at(-45 * time.Second)},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 3,
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL}},
		Status: v1alpha1.FederatedStatefulSetStatus{Replicas: 3,
			Ordinals: []v1alpha1.OrdinalRange{{Cluster: "us-1", Start: 0, Count: 3}}},
	}
	return []v1alpha1.FederatedStatefulSet{*kafka, *db, fresh}
}

// fixtureDrills are three drills of prod/db: a region outage that passed
// on its third run, a switchover under way and one never run.
func fixtureDrills() []v1alpha1.FailoverDrill {
	micro := func(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(fixtureNow.Add(d)) }
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	outage := v1alpha1.FailoverDrill{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "lose-us", CreationTimestamp: at(-7 * 24 * time.Hour)},
		Spec: v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillRegionOutage, Schedule: "0 3 * * 1",
			HoldFor: dur(30 * time.Second), Abort: v1alpha1.DrillAbort{MaxRTO: dur(10 * time.Second)}},
		Status: v1alpha1.FailoverDrillStatus{Phase: v1alpha1.DrillSucceeded, Step: v1alpha1.DrillStepDone, Runs: 3,
			TargetRegion: "us-east", OriginalPrimary: "db-2", TaintedClusters: []string{"us-1"},
			Requests: []v1alpha1.DrillRequest{
				{ID: "6c1d-5", To: "db-0", RequestedAt: micro(-11 * time.Minute), Phase: v1alpha1.RequestSucceeded, Epoch: 7,
					Message: "db-0 (eu-1) is primary in epoch 8", CompletedAt: ptr.To(micro(-11*time.Minute + 1843*time.Millisecond))},
				{ID: "6c1d-6", To: "db-2", RequestedAt: micro(-10*time.Minute + 32*time.Second), Phase: v1alpha1.RequestSucceeded, Epoch: 8,
					Message: "db-2 (us-1) is primary in epoch 9", CompletedAt: ptr.To(micro(-10*time.Minute + 33600*time.Millisecond))},
			},
			Phases: []v1alpha1.DrillPhaseRecord{
				{Name: "Detect", Start: micro(-11 * time.Minute), End: ptr.To(micro(-11*time.Minute + 40*time.Millisecond)), Duration: dur(40 * time.Millisecond)},
				{Name: "Fence", Start: micro(-11*time.Minute + 40*time.Millisecond), End: ptr.To(micro(-11*time.Minute + 610*time.Millisecond)), Duration: dur(570 * time.Millisecond)},
				{Name: "Promote", Start: micro(-11*time.Minute + 610*time.Millisecond), End: ptr.To(micro(-11*time.Minute + 1702*time.Millisecond)), Duration: dur(1092 * time.Millisecond)},
				{Name: "DNSPublished", Start: micro(-11*time.Minute + 1843*time.Millisecond)},
				{Name: "FirstClientSuccess", Start: micro(-11*time.Minute + 1843*time.Millisecond), End: ptr.To(micro(-11*time.Minute + 2311*time.Millisecond)), Duration: dur(468 * time.Millisecond)},
				{Name: "Hold", Start: micro(-11*time.Minute + 2311*time.Millisecond), End: ptr.To(micro(-10*time.Minute + 32*time.Second)), Duration: dur(29689 * time.Millisecond)},
				{Name: "Failback", Start: micro(-10*time.Minute + 32*time.Second), End: ptr.To(micro(-10*time.Minute + 33600*time.Millisecond)), Duration: dur(1600 * time.Millisecond)},
			},
			RTO: dur(2311 * time.Millisecond), RPOBytes: ptr.To[int64](0), RPOTransactions: ptr.To[int64](0), Errors: 41,
			Downtime: dur(2204 * time.Millisecond), Verdict: v1alpha1.VerdictPassed,
			Reason:     "Region outage of prod/db in us-east: RTO 2.311s, downtime 2.204s, 41 failed writes, nothing lost",
			ReportPath: "/var/lib/fedstate/drills/prod/lose-us-3",
			StartedAt:  ptr.To(at(-11 * time.Minute)), FinishedAt: ptr.To(at(-9*time.Minute - 20*time.Second)),
			LastScheduleTime: ptr.To(at(-11 * time.Minute))},
	}
	running := v1alpha1.FailoverDrill{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "to-eu", CreationTimestamp: at(-20 * time.Second)},
		Spec:       v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillSwitchover, TargetRegion: "eu-west"},
		Status: v1alpha1.FailoverDrillStatus{Phase: v1alpha1.DrillRunning, Step: v1alpha1.DrillStepHold, Runs: 1,
			TargetRegion: "eu-west", OriginalPrimary: "db-2", StartedAt: ptr.To(at(-15 * time.Second))},
	}
	pending := v1alpha1.FailoverDrill{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "failback", CreationTimestamp: at(-5 * time.Second)},
		Spec:       v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillFailback, TargetRegion: "us-east"},
		Status:     v1alpha1.FailoverDrillStatus{Phase: v1alpha1.DrillPending},
	}
	return []v1alpha1.FailoverDrill{running, outage, pending}
}

// TestRenderGetGolden renders each kind's fixtures in every format and
// compares them with testdata/get-<kind>.<format>.golden; -update rewrites
// them.
func TestRenderGetGolden(t *testing.T) {
	for _, kind := range []struct {
		name   string
		render func(format string) ([]byte, error)
	}{
		{name: "clusters", render: func(f string) ([]byte, error) { return renderClusters(f, fixtureClusters(), fixtureNow) }},
		{name: "services", render: func(f string) ([]byte, error) {
			return renderServices(f, fixtureServices(), fixtureMembers(), fixtureNow)
		}},
		{name: "drills", render: func(f string) ([]byte, error) { return renderDrills(f, fixtureDrills(), fixtureNow) }},
	} {
		for _, format := range []string{formatTable, formatJSON, formatYAML} {
			t.Run(kind.name+"/"+format, func(t *testing.T) {
				got, err := kind.render(format)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "get-"+kind.name+"."+format+".golden"), got)
			})
		}
	}
}

func TestRenderGetEmptyLists(t *testing.T) {
	for format, want := range map[string]string{
		formatJSON:  "{\n  \"clusters\": []\n}\n",
		formatYAML:  "clusters: []\n",
		formatTable: "NAME  REGION  ZONE  READY  AGENT  TAINTS  AGE\n",
	} {
		got, err := renderClusters(format, nil, fixtureNow)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", format, got, err, want)
		}
	}
	if _, err := renderDrills("wide", nil, fixtureNow); err == nil {
		t.Error("format wide accepted")
	}
}
