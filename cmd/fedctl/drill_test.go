package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// TestGetAndDrillCommands runs fedctl get and fedctl drill against the
// test bed's hub API server. No hub runs there: the test answers in the
// drill's status as the drill controller would.
func TestGetAndDrillCommands(t *testing.T) {
	ns := "fedctl-drill"
	hub, hubFlag := hubOf(t, ns)
	mc := &v1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "drill-us-1"},
		Spec: v1alpha1.MemberClusterSpec{Region: "us-east", Zone: "us-east-a",
			Taints:              []v1alpha1.Taint{{Key: "fedstate.io/maintenance", Effect: v1alpha1.TaintNoSchedule}},
			KubeconfigSecretRef: v1alpha1.SecretKeyReference{Namespace: "fedstate-system", Name: "drill-us-1-kubeconfig"}}}
	fss := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 2,
			Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:17"}}}}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL}},
	}
	for _, o := range []client.Object{mc, fss} {
		if err := hub.Create(callCtx(t), o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteObject(t, hub, o) })
	}
	fss.Status = v1alpha1.FederatedStatefulSetStatus{Replicas: 2, ReadyReplicas: 2,
		Ordinals: []v1alpha1.OrdinalRange{{Cluster: "drill-us-1", Start: 0, Count: 2}},
		Primary:  &v1alpha1.PrimaryStatus{Ordinal: 1, Cluster: "drill-us-1", Epoch: 5}}
	if err := hub.Status().Update(callCtx(t), fss); err != nil {
		t.Fatal(err)
	}

	t.Run("get", func(t *testing.T) {
		out, _, err := run(t, append([]string{"get", "mc"}, hubFlag...)...)
		if err != nil {
			t.Fatalf("fedctl get mc: %v", err)
		}
		if !hasRow(out, []string{"drill-us-1", "us-east", "us-east-a", "-", "-", "fedstate.io/maintenance:NoSchedule"}) {
			t.Errorf("no row of drill-us-1 in:\n%s", out)
		}
		out, _, err = run(t, append([]string{"get", "svc", "-n", ns}, hubFlag...)...)
		if err != nil {
			t.Fatalf("fedctl get svc: %v", err)
		}
		if !hasRow(out, []string{ns, "db", "PrimaryReplica", "2/2", "db-1", "in", "drill-us-1", "5", "us-east"}) {
			t.Errorf("no row of db in:\n%s", out)
		}
		out, _, err = run(t, append([]string{"get", "fss", "-A", "-o", "json"}, hubFlag...)...)
		if err != nil {
			t.Fatalf("fedctl get fss -A: %v", err)
		}
		var list serviceList
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		found := false
		for _, s := range list.Services {
			found = found || s.Namespace == ns && s.Primary != nil && s.Primary.Epoch == 5
		}
		if !found {
			t.Errorf("%s/db with epoch 5 not in %+v", ns, list.Services)
		}
		if _, _, err := run(t, append([]string{"get", "drills", "-o", "wide"}, hubFlag...)...); err == nil ||
			!strings.Contains(err.Error(), `-o "wide": want table, json or yaml`) {
			t.Errorf("fedctl get drills -o wide: %v", err)
		}
	})

	reportDir := filepath.Join(t.TempDir(), ns, "to-us-1")
	if err := os.MkdirAll(reportDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(reportDir, "summary.txt"), []byte("Switchover drill of fedctl-drill/db, run 1\nVerdict: Failed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("run", func(t *testing.T) {
		cmd := newRootCommand()
		var out bytes.Buffer
		var errOut syncBuffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(append([]string{"drill", "run", "to-us", "-n", ns, "--service", "db", "--kind", "Switchover",
			"--target-region", "us-east", "--hold-for", "5s", "--load-rate", "0", "--timeout", "2m"}, hubFlag...))
		result := make(chan error, 1)
		go func() { result <- cmd.ExecuteContext(t.Context()) }()

		// Play the drill controller: three steps, then a failed verdict.
		key := client.ObjectKey{Namespace: ns, Name: "to-us"}
		d := waitForDrill(t, hub, key)
		if d.Spec.HoldFor == nil || d.Spec.HoldFor.Duration != 5*time.Second || d.Spec.Load.Rate == nil || *d.Spec.Load.Rate != 0 ||
			d.Spec.TargetRegion != "us-east" || d.Spec.Abort.MaxRTO != nil {
			t.Errorf("spec %+v", d.Spec)
		}
		now := metav1.Now()
		for _, st := range []v1alpha1.FailoverDrillStatus{
			{Phase: v1alpha1.DrillRunning, Step: v1alpha1.DrillStepAway, Runs: 1, StartedAt: &now,
				Conditions: progressing(metav1.ConditionTrue, v1alpha1.ReasonDrillSwitchingAway, "Run 1: Switchover of db, target region us-east")},
			{Phase: v1alpha1.DrillRunning, Step: v1alpha1.DrillStepHold, Runs: 1, StartedAt: &now,
				Conditions: progressing(metav1.ConditionTrue, v1alpha1.ReasonDrillHolding, "Holding for 5s")},
			{Phase: v1alpha1.DrillFailed, Step: v1alpha1.DrillStepDone, Runs: 1, StartedAt: &now, FinishedAt: &now,
				Verdict: v1alpha1.VerdictFailed, Reason: "Switchover of fedctl-drill/db to us-east: RTO 12s exceeds maxRTO 10s",
				RTO: &metav1.Duration{Duration: 12 * time.Second}, ReportPath: reportDir,
				Conditions: progressing(metav1.ConditionFalse, v1alpha1.ReasonDrillFinished, "Run 1: Failed")},
		} {
			d.Status = st
			if err := hub.Status().Update(callCtx(t), d); err != nil {
				t.Fatal(err)
			}
			if st.Step != v1alpha1.DrillStepDone {
				waitForLine(t, &errOut, string(st.Phase)+" step "+string(st.Step), result)
			}
		}
		var err error
		select {
		case err = <-result:
		case <-time.After(time.Minute):
			t.Fatal("fedctl drill run did not end after the verdict")
		}
		if err == nil || !strings.Contains(err.Error(), "verdict Failed: Switchover of fedctl-drill/db") {
			t.Errorf("fedctl drill run: %v, want the failed verdict", err)
		}
		wants(t, "stderr", errOut.String(), "Created FailoverDrill fedctl-drill/to-us: Switchover of db",
			"Running step Away: SwitchingAway: Run 1: Switchover of db", "Running step Hold: Holding: Holding for 5s",
			"Failed step Done: Finished: Run 1: Failed")
		wants(t, "stdout", out.String(), "Failed: Switchover of fedctl-drill/db to us-east: RTO 12s exceeds maxRTO 10s\nRTO:            12s\n",
			filepath.Join(reportDir, "timeline.svg"), "summary.txt:\n  Switchover drill of fedctl-drill/db, run 1")
	})

	t.Run("run again", func(t *testing.T) {
		_, _, err := run(t, append([]string{"drill", "run", "to-us", "-n", ns, "--service", "db", "--kind", "Switchover",
			"--target-region", "us-east"}, hubFlag...)...)
		if err == nil || !strings.Contains(err.Error(), "exists (run 1, Failed, verdict Failed)") ||
			!strings.Contains(err.Error(), "kubectl delete failoverdrill to-us -n fedctl-drill") {
			t.Errorf("fedctl drill run of an existing drill: %v", err)
		}
		_, _, err = run(t, append([]string{"drill", "run", "nosuch", "-n", ns, "--kind", "Failback"}, hubFlag...)...)
		if err == nil || !strings.Contains(err.Error(), "--service: required") || !strings.Contains(err.Error(), "--target-region: required for kind Failback") {
			t.Errorf("fedctl drill run without --service: %v", err)
		}
	})

	t.Run("report", func(t *testing.T) {
		d, err := getDrill(callCtx(t), hub, client.ObjectKey{Namespace: ns, Name: "to-us"})
		if err != nil {
			t.Fatal(err)
		}
		ev := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "to-us.finished"},
			EventTime: metav1.NowMicro(), ReportingController: "fedstate.io/hub", ReportingInstance: "hub-0", Action: "Finish",
			Reason: "DrillFailed", Note: d.Status.Reason, Type: corev1.EventTypeWarning,
			Regarding: corev1.ObjectReference{Kind: "FailoverDrill", APIVersion: v1alpha1.GroupVersion.String(), Namespace: ns, Name: "to-us", UID: d.UID}}
		if err := hub.Create(callCtx(t), ev); err != nil {
			t.Fatal(err)
		}
		out, _, err := run(t, append([]string{"drill", "report", ns + "/to-us", "-o", "json"}, hubFlag...)...)
		if err != nil {
			t.Fatalf("fedctl drill report: %v", err)
		}
		var r drillReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if r.Verdict != v1alpha1.VerdictFailed || r.RTO != "12s" || r.Run != 1 || !strings.Contains(r.Files.SummaryText, "Verdict: Failed") ||
			len(r.History) != 1 || r.History[0].Result != "Failed" {
			t.Errorf("report %+v", r)
		}
	})
}

// progressing is a drill's Progressing condition.
func progressing(status metav1.ConditionStatus, reason, msg string) []metav1.Condition {
	return []metav1.Condition{{Type: v1alpha1.DrillProgressing, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()}}
}

// waitForDrill polls until the drill exists and returns it.
func waitForDrill(t *testing.T, hub client.Client, key client.ObjectKey) *v1alpha1.FailoverDrill {
	t.Helper()
	var d *v1alpha1.FailoverDrill
	pollUntil(t, "FailoverDrill "+key.String()+" created", func() bool {
		var err error
		d, err = getDrill(callCtx(t), hub, key)
		return err == nil
	})
	return d
}

// waitForLine polls until the command's stderr has a line containing
// want, failing early when the command ended.
func waitForLine(t *testing.T, stderr *syncBuffer, want string, result chan error) {
	t.Helper()
	pollUntil(t, "progress line "+want, func() bool {
		select {
		case err := <-result:
			t.Fatalf("fedctl drill run ended early: %v", err)
		default:
		}
		return strings.Contains(stderr.String(), want)
	})
}

// syncBuffer is a bytes.Buffer that a command writes while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is what was written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pollUntil calls cond every 20 ms until it holds, for at most a minute.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within a minute", what)
		case <-tick.C:
		}
	}
}

// deleteObject deletes o at the end of a test (t.Context is done by then).
func deleteObject(t *testing.T, hub client.Client, o client.Object) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hub.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
		t.Error(err)
	}
}
