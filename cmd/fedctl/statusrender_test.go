package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixtureNow is the clock of the golden tests.
var fixtureNow = time.Date(2026, 3, 1, 14, 30, 0, 0, time.UTC)

// at is fixtureNow moved by d, as an API time.
func at(d time.Duration) metav1.Time { return metav1.NewTime(fixtureNow.Add(d)) }

// fixtureMembers are four member clusters in three regions.
func fixtureMembers() []v1alpha1.MemberCluster {
	member := func(name, region string) v1alpha1.MemberCluster {
		return v1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.MemberClusterSpec{Region: region}}
	}
	return []v1alpha1.MemberCluster{member("us-1", "us-east"), member("eu-1", "eu-west"),
		member("eu-2", "eu-west"), member("ap-1", "ap-south")}
}

// fixturePostgres is prod/db, a PostgreSQL fleet of five replicas in four
// clusters after two failovers: primary db-2 in us-1, a synchronous standby
// in eu-1, db-4 fenced in the unreachable ap-1, one switchover request
// answered.
func fixturePostgres() *v1alpha1.FederatedStatefulSet {
	var none *int64
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 5,
			Ports: []v1alpha1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}, {Name: "metrics", Port: 9187}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL,
				SyncReplicas: 1}},
		Status: v1alpha1.FederatedStatefulSetStatus{Replicas: 5, ReadyReplicas: 4,
			Ordinals: []v1alpha1.OrdinalRange{{Cluster: "eu-1", Start: 0, Count: 2}, {Cluster: "us-1", Start: 2, Count: 2},
				{Cluster: "ap-1", Start: 4, Count: 1}},
			ReplicaStatuses: []v1alpha1.ReplicaStatus{
				{Ordinal: 0, Cluster: "eu-1", PodIP: "10.1.0.7", Ready: true, Role: v1alpha1.RoleSyncStandby, LagBytes: ptr.To[int64](0)},
				{Ordinal: 1, Cluster: "eu-1", PodIP: "10.1.0.8", Ready: true, Role: v1alpha1.RoleAsyncReplica, LagBytes: ptr.To[int64](12_595)},
				{Ordinal: 2, Cluster: "us-1", PodIP: "10.2.0.4", Ready: true, Role: v1alpha1.RolePrimary, LagBytes: ptr.To[int64](0)},
				{Ordinal: 3, Cluster: "us-1", PodIP: "10.2.0.5", Ready: true, Role: v1alpha1.RoleAsyncReplica, LagBytes: ptr.To[int64](3_984_588)},
				{Ordinal: 4, Cluster: "ap-1", PodIP: "10.3.0.2", Ready: false, Role: v1alpha1.RoleFenced, LagBytes: none},
			},
			Primary: &v1alpha1.PrimaryStatus{Ordinal: 2, Cluster: "us-1", Epoch: 3, Since: ptr.To(at(-2*time.Hour - 13*time.Minute))},
			Conditions: []metav1.Condition{
				{Type: v1alpha1.ServicePlaced, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonPlaced, LastTransitionTime: at(-72 * time.Hour)},
				{Type: v1alpha1.ServiceAvailable, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonReplicasReady, LastTransitionTime: at(-2 * time.Hour)},
				{Type: v1alpha1.ServiceProgressing, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonConverged, LastTransitionTime: at(-2 * time.Hour)},
				{Type: v1alpha1.ServiceDegraded, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonMemberUnreachable,
					Message: "cluster ap-1 is unreachable: db-4", LastTransitionTime: at(-4 * time.Minute)},
				{Type: v1alpha1.ServiceFailingOver, Status: metav1.ConditionFalse, Reason: "PrimaryHealthy",
					Message: "db-2 (us-1) holds its lease in epoch 3", LastTransitionTime: at(-2*time.Hour - 13*time.Minute)},
			},
			FailoverHistory: []v1alpha1.FailoverRecord{
				{Time: at(-2*time.Hour - 13*time.Minute), Reason: "Switchover", FromOrdinal: ptr.To[int32](0), ToOrdinal: 2, Epoch: 3,
					RTO: &metav1.Duration{Duration: 1_843_200 * time.Microsecond}, DataLossBytes: ptr.To[int64](0)},
				{Time: at(-50 * time.Hour), Reason: "LeaseExpired", FromOrdinal: ptr.To[int32](2), ToOrdinal: 0, Epoch: 2,
					RTO: &metav1.Duration{Duration: 7_412 * time.Millisecond}, DataLossBytes: ptr.To[int64](2_310), AcceptedDataLoss: true,
					MeasuredLossBytes: ptr.To[int64](14_872), LostTransactions: ptr.To[int64](3), LossMeasuredAt: ptr.To(at(-49 * time.Hour))},
				{Time: at(-72 * time.Hour), Reason: "Bootstrap", ToOrdinal: 2, Epoch: 1},
			},
			Requests: []v1alpha1.RequestStatus{{Kind: v1alpha1.RequestSwitchover, ID: "20260301t121650-k2x9q",
				Phase: v1alpha1.RequestSucceeded, Message: "db-2 (us-1) is primary in epoch 3", Epoch: 2, Time: at(-2*time.Hour - 13*time.Minute)}},
		},
	}
}

// fixtureNative is prod/kafka, a Kafka cluster that replicates by itself:
// no primary, no roles; db-3 of a scale-up not placed yet, DNS names
// switched off.
func fixtureNative() *v1alpha1.FederatedStatefulSet {
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "kafka"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 4,
			Ports:       []v1alpha1.ServicePort{{Name: "broker", Port: 9092, Protocol: corev1.ProtocolTCP}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationNative},
			DNS:         &v1alpha1.DNS{Enabled: ptr.To(false)}},
		Status: v1alpha1.FederatedStatefulSetStatus{Replicas: 3, ReadyReplicas: 3,
			Ordinals: []v1alpha1.OrdinalRange{{Cluster: "eu-2", Start: 0, Count: 1}, {Cluster: "us-1", Start: 1, Count: 1},
				{Cluster: "eu-1", Start: 2, Count: 1}},
			ReplicaStatuses: []v1alpha1.ReplicaStatus{
				{Ordinal: 0, Cluster: "eu-2", PodIP: "10.4.0.3", Ready: true},
				{Ordinal: 1, Cluster: "us-1", PodIP: "10.2.0.9", Ready: true},
				{Ordinal: 2, Cluster: "eu-1", PodIP: "10.1.0.11", Ready: true},
			},
			Conditions: []metav1.Condition{
				{Type: v1alpha1.ServicePlaced, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUnschedulable,
					Message: "kafka-3: no cluster outside eu-west, us-east has room", LastTransitionTime: at(-90 * time.Second)},
				{Type: v1alpha1.ServiceAvailable, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonReplicasReady, LastTransitionTime: at(-24 * time.Hour)},
			},
		},
	}
}

// TestRenderStatusGolden renders the fixtures in every format and compares
// them with testdata/status-<fixture>.<format>.golden; -update rewrites
// them.
func TestRenderStatusGolden(t *testing.T) {
	for _, fx := range []struct {
		name string
		fss  *v1alpha1.FederatedStatefulSet
	}{
		{name: "postgres", fss: fixturePostgres()},
		{name: "native", fss: fixtureNative()},
	} {
		for _, format := range []string{formatTable, formatJSON, formatYAML} {
			t.Run(fx.name+"/"+format, func(t *testing.T) {
				got, err := renderStatus(format, fx.fss, fixtureMembers(), "fedstate.local.", fixtureNow)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "status-"+fx.name+"."+format+".golden"), got)
			})
		}
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; got:\n%s", path, got)
	}
}

func TestRenderStatusRefusesUnknownFormat(t *testing.T) {
	if _, err := renderStatus("xml", fixturePostgres(), nil, "fedstate.local.", fixtureNow); err == nil {
		t.Error("format xml accepted")
	}
}

func TestHumanBytes(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{in: 0, want: "0 B"},
		{in: 1023, want: "1023 B"},
		{in: 1024, want: "1.0 KiB"},
		{in: 12_595, want: "12.3 KiB"},
		{in: 1_048_524, want: "1023.9 KiB"},
		{in: 1_048_525, want: "1.0 MiB"},
		{in: 3_984_588, want: "3.8 MiB"},
		{in: 5 << 40, want: "5.0 TiB"},
		{in: 1<<63 - 1, want: "8.0 EiB"},
		{in: -2048, want: "-2.0 KiB"},
	} {
		if got := humanBytes(tc.in); got != tc.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalZone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "fedstate.local.", want: "fedstate.local."},
		{in: "Fedstate.Example", want: "fedstate.example."},
		{in: ".", want: "."},
		{in: "a..b.", bad: true},
		{in: "-x.local.", bad: true},
		{in: "", bad: true},
	} {
		got, err := canonicalZone(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("canonicalZone(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestBuildReportShowsTheLatestFailovers(t *testing.T) {
	fss := fixturePostgres()
	fss.Status.FailoverHistory = nil
	for e := int64(9); e >= 1; e-- {
		fss.Status.FailoverHistory = append(fss.Status.FailoverHistory, v1alpha1.FailoverRecord{Reason: "Switchover", Epoch: e})
	}
	r := buildReport(fss, nil, "fedstate.local.")
	if len(r.Failovers) != historyShown || r.Failovers[0].Epoch != 9 || r.Failovers[historyShown-1].Epoch != 5 {
		t.Errorf("failovers %+v, want epochs 9 down to 5", r.Failovers)
	}
	if r.Primary.Region != "" {
		t.Errorf("primary region %q without members", r.Primary.Region)
	}
}
