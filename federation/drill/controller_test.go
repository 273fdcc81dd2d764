package drill_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func phaseIs(want v1alpha1.DrillPhase, step v1alpha1.DrillStep) func(*v1alpha1.FailoverDrill) error {
	return func(d *v1alpha1.FailoverDrill) error {
		if d.Status.Phase != want || d.Status.Step != step {
			return fmt.Errorf("phase %s, step %s (%s)", d.Status.Phase, d.Status.Step, d.Status.Reason)
		}
		return nil
	}
}

func TestSwitchoverDrill(t *testing.T) {
	e := newEnv(t)
	d := e.createDrill("sw", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillSwitchover, TargetRegion: "us-east",
		HoldFor: &metav1.Duration{Duration: time.Second}, Load: v1alpha1.DrillLoad{Rate: ptr.To[int32](10)}})
	uid := string(d.UID)

	if to := e.waitRequest(uid + "-1"); to != "us-east" {
		t.Fatalf("first switchover to %q, want us-east", to)
	}
	e.waitDrill("sw", "running, switching away", func(d *v1alpha1.FailoverDrill) error {
		if d.Status.Phase != v1alpha1.DrillRunning || d.Status.OriginalPrimary != "db-0" || len(d.Status.Requests) != 1 {
			return fmt.Errorf("status %+v", d.Status)
		}
		return nil
	})
	e.answer(uid+"-1", v1alpha1.RequestAccepted, 1, "", nil)
	e.waitDrill("sw", "request accepted", func(d *v1alpha1.FailoverDrill) error {
		if d.Status.Requests[0].Phase != v1alpha1.RequestAccepted {
			return fmt.Errorf("request %+v", d.Status.Requests[0])
		}
		return nil
	})
	e.answer(uid+"-1", v1alpha1.RequestSucceeded, 1, "db-1 (us-1) is primary in epoch 2", switchedTo(1, "us-1", 2, e.requestedAt("sw", 0)))
	e.waitDrill("sw", "holding", func(d *v1alpha1.FailoverDrill) error {
		if d.Status.Step != v1alpha1.DrillStepHold && d.Status.Step != v1alpha1.DrillStepBack {
			return fmt.Errorf("step %s", d.Status.Step)
		}
		return nil
	})

	// After the hold, back to the replica that was primary.
	if to := e.waitRequest(uid + "-2"); to != "db-0" {
		t.Fatalf("second switchover to %q, want db-0", to)
	}
	e.answer(uid+"-2", v1alpha1.RequestSucceeded, 2, "db-0 (eu-1) is primary in epoch 3", switchedTo(0, "eu-1", 3, e.requestedAt("sw", 1)))
	d = e.waitDrill("sw", "succeeded", phaseIs(v1alpha1.DrillSucceeded, v1alpha1.DrillStepDone))

	st := d.Status
	if st.Verdict != v1alpha1.VerdictPassed || !strings.Contains(st.Reason, "no acknowledged write lost") {
		t.Errorf("verdict %s %q", st.Verdict, st.Reason)
	}
	var names []string
	for _, p := range st.Phases {
		names = append(names, p.Name)
	}
	want := []string{"Detect", "Fence", "Promote", "DNSPublished", "FirstClientSuccess", "Hold", "Failback"}
	if !slices.Equal(names, want) {
		t.Errorf("phases %v, want %v", names, want)
	}
	if st.RTO == nil || st.RTO.Duration <= 0 || st.Downtime == nil || st.RPOBytes == nil || *st.RPOBytes != 0 ||
		st.RPOTransactions == nil || *st.RPOTransactions != 0 || st.StartedAt == nil || st.FinishedAt == nil || st.Runs != 1 {
		t.Errorf("measures missing: %+v", st)
	}
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.DrillProgressing); c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonDrillFinished {
		t.Errorf("Progressing condition %+v", c)
	}
	for _, f := range []string{"timeline.svg", "timeline.png", "summary.txt"} {
		if fi, err := os.Stat(filepath.Join(st.ReportPath, f)); err != nil || fi.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	if !strings.HasPrefix(st.ReportPath, e.reportDir) {
		t.Errorf("report path %s not under %s", st.ReportPath, e.reportDir)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.traffic) != 1 {
		t.Fatalf("%d traffic runs, want 1", len(e.traffic))
	}
	f := e.traffic[0]
	if f.cfg.Namespace != e.ns || f.cfg.Service != "db" || f.cfg.Rate != 10 || f.cfg.DNSServer != "127.0.0.1:5353" || f.cfg.Zone != "fedstate.local." {
		t.Errorf("traffic configuration %+v", f.cfg)
	}
	if want := netip.MustParseAddrPort("10.1.0.1:5432"); !slices.Equal(f.verified, []netip.AddrPort{want}) {
		t.Errorf("verified on %v, want the final primary %s", f.verified, want)
	}
}

func TestRegionOutageAbortsOnNoCandidate(t *testing.T) {
	e := newEnv(t)
	d := e.createDrill("outage", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillRegionOutage,
		HoldFor: &metav1.Duration{Duration: time.Second}})
	uid := string(d.UID)

	// The primary's region is lost: eu-1 tainted, the primary moved to the
	// synchronous standby outside it.
	if to := e.waitRequest(uid + "-1"); to != "db-1" {
		t.Fatalf("switchover to %q, want db-1, the sync standby outside eu-west", to)
	}
	if got := drillTaints(t, "eu-1"); len(got) != 1 || got[0].Value != uid || got[0].Effect != v1alpha1.TaintNoSchedule {
		t.Fatalf("taints of eu-1: %+v", got)
	}
	d = e.drill("outage")
	if d.Status.TargetRegion != "eu-west" || !slices.Equal(d.Status.TaintedClusters, []string{"eu-1"}) {
		t.Errorf("target %s, tainted %v", d.Status.TargetRegion, d.Status.TaintedClusters)
	}

	e.answer(uid+"-1", v1alpha1.RequestAccepted, 1, "", func(fss *v1alpha1.FederatedStatefulSet) {
		meta.SetStatusCondition(&fss.Status.Conditions, metav1.Condition{Type: v1alpha1.ServiceFailingOver, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonNoCandidate, Message: "db-1: not caught up"})
	})
	e.waitDrill("outage", "aborted, reverting", phaseIs(v1alpha1.DrillAborted, v1alpha1.DrillStepReverting))
	eventually(t, timeout, "eu-1 untainted", func() error {
		if got := drillTaints(t, "eu-1"); len(got) > 0 {
			return fmt.Errorf("taints %+v", got)
		}
		return nil
	})
	// The switchover under way ends without a change of primary: nothing
	// to switch back.
	e.answer(uid+"-1", v1alpha1.RequestFailed, 1, "the switchover was aborted", nil)
	d = e.waitDrill("outage", "aborted and done", phaseIs(v1alpha1.DrillAborted, v1alpha1.DrillStepDone))
	if d.Status.Verdict != v1alpha1.VerdictAborted || !strings.Contains(d.Status.Reason, "no replica it may promote: db-1: not caught up") {
		t.Errorf("verdict %s %q", d.Status.Verdict, d.Status.Reason)
	}
	if len(d.Status.Requests) != 1 {
		t.Errorf("requests %+v, want only the first", d.Status.Requests)
	}
}

func TestDrillMaxRTOAbortsAndSwitchesBack(t *testing.T) {
	e := newEnv(t)
	d := e.createDrill("slow", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillSwitchover, TargetRegion: "ap-south",
		Abort: v1alpha1.DrillAbort{MaxRTO: &metav1.Duration{Duration: 2 * time.Second}}, Load: v1alpha1.DrillLoad{Rate: ptr.To[int32](0)}})
	uid := string(d.UID)
	e.waitRequest(uid + "-1")
	e.answer(uid+"-1", v1alpha1.RequestAccepted, 1, "", nil)
	e.waitDrill("slow", "aborted after maxRTO", phaseIs(v1alpha1.DrillAborted, v1alpha1.DrillStepReverting))
	// The switchover completes late: the drill reverts it, once the old
	// primary follows the new one (the coordinator refuses it before).
	moved := switchedTo(2, "ap-1", 2, e.requestedAt("slow", 0))
	e.answer(uid+"-1", v1alpha1.RequestSucceeded, 1, "db-2 (ap-1) is primary in epoch 2", func(fss *v1alpha1.FederatedStatefulSet) {
		moved(fss)
		fss.Status.ReplicaStatuses[0].Role, fss.Status.ReplicaStatuses[0].LagBytes = v1alpha1.RoleFenced, nil
	})
	e.waitDrill("slow", "waiting for db-0 to follow", func(d *v1alpha1.FailoverDrill) error {
		c := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.DrillProgressing)
		if c == nil || !strings.Contains(c.Message, "Waiting for db-0 to follow") {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	if len(e.drill("slow").Status.Requests) != 1 || strings.Contains(e.service().Annotations[v1alpha1.AnnotationSwitchover], uid+"-2") {
		t.Fatal("the switch back was requested before db-0 follows")
	}
	fss := e.service()
	fss.Status.ReplicaStatuses[0].Role, fss.Status.ReplicaStatuses[0].LagBytes = v1alpha1.RoleSyncStandby, ptr.To[int64](0)
	if err := hubc.Status().Update(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	if to := e.waitRequest(uid + "-2"); to != "db-0" {
		t.Fatalf("revert to %q, want db-0", to)
	}
	e.answer(uid+"-2", v1alpha1.RequestSucceeded, 2, "db-0 (eu-1) is primary in epoch 3", switchedTo(0, "eu-1", 3, e.requestedAt("slow", 1)))
	d = e.waitDrill("slow", "aborted and done", phaseIs(v1alpha1.DrillAborted, v1alpha1.DrillStepDone))
	if !strings.Contains(d.Status.Reason, "did not complete within maxRTO 2s") {
		t.Errorf("reason %q", d.Status.Reason)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.traffic) != 0 {
		t.Errorf("traffic started with rate 0")
	}
}

func TestDrillInvalidAndOneAtATime(t *testing.T) {
	e := newEnv(t)
	// The API server rejects a switchover without a target region.
	bad := &v1alpha1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: e.ns},
		Spec: v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillSwitchover}}
	if err := hubc.Create(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "spec.targetRegion") {
		t.Errorf("switchover without targetRegion: %v", err)
	}
	// A drill of a service that does not exist fails at once.
	d := &v1alpha1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Name: "nosvc", Namespace: e.ns},
		Spec: v1alpha1.FailoverDrillSpec{Service: "nope", Kind: v1alpha1.DrillFailback, TargetRegion: "us-east"}}
	if err := hubc.Create(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	e.waitDrill("nosvc", "invalid", func(d *v1alpha1.FailoverDrill) error {
		if d.Status.Phase != v1alpha1.DrillFailed || !strings.Contains(d.Status.Reason, "No FederatedStatefulSet nope") {
			return fmt.Errorf("phase %s %q", d.Status.Phase, d.Status.Reason)
		}
		return nil
	})
	// A failback of db to us-east runs; a second drill of db waits for it.
	missing := e.createDrill("missing", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillFailback, TargetRegion: "us-east"})
	e.waitRequest(string(missing.UID) + "-1")
	e.createDrill("second", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillFailback, TargetRegion: "ap-south"})
	e.waitDrill("second", "waiting", func(d *v1alpha1.FailoverDrill) error {
		c := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.DrillProgressing)
		if d.Status.Phase != v1alpha1.DrillPending || c == nil || c.Reason != v1alpha1.ReasonDrillWaiting || !strings.Contains(c.Message, "missing") {
			return errors.New("not waiting")
		}
		return nil
	})
	e.answer(string(missing.UID)+"-1", v1alpha1.RequestSucceeded, 1, "db-1 (us-1) is primary in epoch 2", switchedTo(1, "us-1", 2, e.requestedAt("missing", 0)))
	e.waitDrill("missing", "failback done", phaseIs(v1alpha1.DrillSucceeded, v1alpha1.DrillStepDone))
	// Now the second one starts.
	e.waitRequest(string(e.drill("second").UID) + "-1")
}
