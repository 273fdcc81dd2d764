package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// TestStatusCommand runs fedctl status against the test bed's hub API
// server: a service in two member clusters with a status as the hub writes
// it.
func TestStatusCommand(t *testing.T) {
	ns := "fedctl-status"
	hub, hubFlag := hubOf(t, ns)
	for name, region := range map[string]string{"status-eu-1": "eu-west", "status-us-1": "us-east"} {
		mc := &v1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.MemberClusterSpec{Region: region,
				KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: "fedstate-system", Name: name + "-kubeconfig"}}}
		if err := hub.Create(callCtx(t), mc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// t.Context is done by now.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := hub.Delete(ctx, mc); err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		})
	}
	fss := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 3,
			Ports: []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:17"}}}}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL}},
	}
	if err := hub.Create(callCtx(t), fss); err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	fss.Status = v1alpha1.FederatedStatefulSetStatus{Replicas: 3, ReadyReplicas: 3,
		Ordinals: []v1alpha1.OrdinalRange{{Cluster: "status-us-1", Start: 0, Count: 1}, {Cluster: "status-eu-1", Start: 1, Count: 2}},
		ReplicaStatuses: []v1alpha1.ReplicaStatus{
			{Ordinal: 0, Cluster: "status-us-1", PodIP: "10.2.0.4", Ready: true, Role: v1alpha1.RoleAsyncReplica, LagBytes: ptr.To[int64](2048)},
			{Ordinal: 1, Cluster: "status-eu-1", PodIP: "10.1.0.7", Ready: true, Role: v1alpha1.RolePrimary, LagBytes: ptr.To[int64](0)},
			{Ordinal: 2, Cluster: "status-eu-1", PodIP: "10.1.0.8", Ready: true, Role: v1alpha1.RoleSyncStandby, LagBytes: ptr.To[int64](0)},
		},
		Primary: &v1alpha1.PrimaryStatus{Ordinal: 1, Cluster: "status-eu-1", Epoch: 4, Since: &now},
		Conditions: []metav1.Condition{{Type: v1alpha1.ServiceFailingOver, Status: metav1.ConditionFalse, Reason: "PrimaryHealthy",
			Message: "db-1 (status-eu-1) holds its lease in epoch 4", LastTransitionTime: now}},
		FailoverHistory: []v1alpha1.FailoverRecord{{Time: now, Reason: "Switchover", FromOrdinal: ptr.To[int32](0), ToOrdinal: 1, Epoch: 4}},
	}
	if err := hub.Status().Update(callCtx(t), fss); err != nil {
		t.Fatal(err)
	}

	t.Run("table", func(t *testing.T) {
		out, _, err := run(t, append([]string{"status", ns + "/db"}, hubFlag...)...)
		if err != nil {
			t.Fatalf("fedctl status: %v", err)
		}
		wants(t, "stdout", out, "Service:      fedctl-status/db",
			"Primary:      db-1 in status-eu-1 (eu-west), epoch 4, since ",
			"FailingOver:  False PrimaryHealthy: db-1 (status-eu-1) holds its lease in epoch 4",
			"db-0.db.fedctl-status.svc.fedstate.local.", "_pg._tcp.primary.db.fedctl-status.svc.fedstate.local.")
		for _, row := range [][]string{
			{"db-1", "eu-west", "status-eu-1", "Primary", "yes", "10.1.0.7", "0 B"},
			{"db-2", "eu-west", "status-eu-1", "SyncStandby", "yes", "10.1.0.8", "0 B"},
			{"db-0", "us-east", "status-us-1", "AsyncReplica", "yes", "10.2.0.4", "2.0 KiB"},
		} {
			if !hasRow(out, row) {
				t.Errorf("no row %q in:\n%s", row, out)
			}
		}
		if i, j := strings.Index(out, "\ndb-1 "), strings.Index(out, "\ndb-0 "); i < 0 || j < i {
			t.Errorf("replicas not grouped by region (eu-west before us-east):\n%s", out)
		}
	})
	t.Run("json", func(t *testing.T) {
		out, _, err := run(t, append([]string{"status", "db", "-n", ns, "-o", "json", "--zone", "Fed.Example"}, hubFlag...)...)
		if err != nil {
			t.Fatalf("fedctl status -o json: %v", err)
		}
		var r serviceReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if r.Primary == nil || r.Primary.Replica != "db-1" || len(r.Replicas) != 3 || r.DNS.Service != "db.fedctl-status.svc.fed.example." {
			t.Errorf("report %+v", r)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for args, want := range map[string]string{
			"status nosuch -n " + ns: "no FederatedStatefulSet fedctl-status/nosuch",
			"status a/b/c -o xml":    `SERVICE "a/b/c": want NAME or NAMESPACE/NAME` + "\n  " + `-o "xml": want table, json or yaml`,
			"status db --zone a..b":  `--zone "a..b"`,
		} {
			_, _, err := run(t, append(strings.Fields(args), hubFlag...)...)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("fedctl %s: %v, want an error about %s", args, err, want)
			}
		}
	})
}

// hasRow reports whether a line of out starts with the cells of row,
// separated by spaces.
func hasRow(out string, row []string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.Join(strings.Fields(line), " ")+" ", strings.Join(row, " ")+" ") {
			return true
		}
	}
	return false
}
