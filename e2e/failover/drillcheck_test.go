package failover

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill"
)

// drillHold is the drills' holdFor: long enough to look at the service
// while the primary is away, short enough to keep the package quick.
const drillHold = 2 * time.Second

// maxDrillRTO bounds the RTO a drill may measure: a planned switchover
// takes about a second, far less than this even on a loaded machine.
const maxDrillRTO = 30 * time.Second

// runDrill creates a drill of the service "drill" with spec (holdFor and
// the client traffic through the federation's first DNS server set
// here), waits until its run is over, calling observe (when set) with
// the drill at every look, and returns it.
func runDrill(t *testing.T, name string, spec v1alpha1.FailoverDrillSpec, observe func(*v1alpha1.FailoverDrill)) *v1alpha1.FailoverDrill {
	t.Helper()
	spec.Service = "drill"
	spec.HoldFor = &metav1.Duration{Duration: drillHold}
	spec.Load = v1alpha1.DrillLoad{Rate: ptr.To[int32](20), DNSServer: dnsAddr, Zone: localfed.Zone}
	d := &v1alpha1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: spec}
	if err := hubc.Create(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hubc.Delete(context.Background(), d) })
	waitFor(t, 3*time.Minute, "drill "+name+" over", func() error {
		if err := hubc.Get(t.Context(), client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		if observe != nil {
			observe(d)
		}
		if d.Status.Step != v1alpha1.DrillStepDone {
			return fmt.Errorf("%w: phase %s, step %s, requests %+v", errNotYet, d.Status.Phase, d.Status.Step, d.Status.Requests)
		}
		return nil
	})
	st := d.Status
	t.Logf("drill %s: %s %s (%s); RTO %v, downtime %v, %d failed writes; requests %+v; report %s",
		name, st.Phase, st.Verdict, st.Reason, st.RTO, st.Downtime, st.Errors, st.Requests, st.ReportPath)
	return d
}

// checkPassed checks a drill that moved the primary and passed: its
// phases (Detect to FirstClientSuccess, then after), the RTO, nothing
// lost and the report.
func checkPassed(t *testing.T, d *v1alpha1.FailoverDrill, after ...string) {
	t.Helper()
	st := d.Status
	if st.Phase != v1alpha1.DrillSucceeded || st.Verdict != v1alpha1.VerdictPassed {
		t.Errorf("phase %s, verdict %s (%s); want Succeeded, Passed", st.Phase, st.Verdict, st.Reason)
	}
	want := append([]string{drill.PhaseDetect, drill.PhaseFence, drill.PhasePromote, drill.PhaseDNSPublished, drill.PhaseFirstClientSuccess}, after...)
	if err := checkPhases(d, want); err != nil {
		t.Errorf("phases: %v\n%+v", err, st.Phases)
	}
	if st.RTO == nil || st.RTO.Duration <= 0 || st.RTO.Duration > maxDrillRTO {
		t.Errorf("RTO %v, want in (0, %v]", st.RTO, maxDrillRTO)
	}
	if st.RPOTransactions == nil || *st.RPOTransactions != 0 || st.RPOBytes == nil || *st.RPOBytes != 0 {
		t.Errorf("rpoTransactions %v, rpoBytes %v; want 0 and 0: a planned switchover loses nothing",
			ptr.Deref(st.RPOTransactions, -1), ptr.Deref(st.RPOBytes, -1))
	}
	checkReport(t, st.ReportPath)
}

// checkPhases checks that the drill's phases are want, in that order,
// and that their times agree with each other and with the run's
// requests (docs/drills.md, "Phases and measures").
func checkPhases(d *v1alpha1.FailoverDrill, want []string) error {
	st := d.Status
	var names []string
	for _, p := range st.Phases {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, want) {
		return fmt.Errorf("phases %v, want %v", names, want)
	}
	var errs []error
	runStart, runEnd := st.StartedAt.Time, st.FinishedAt.Add(time.Second) // whole seconds
	for _, p := range st.Phases {
		instant := p.Name == drill.PhaseDNSPublished || p.Name == drill.PhaseFirstClientSuccess
		switch {
		case p.End == nil && !instant:
			errs = append(errs, fmt.Errorf("%s has no end", p.Name))
		case p.End == nil:
		case p.End.Before(&p.Start) || p.Duration == nil || p.Duration.Duration < 0 ||
			(p.End.Sub(p.Start.Time)-p.Duration.Duration).Abs() > time.Microsecond:
			errs = append(errs, fmt.Errorf("%s: start %s, end %s, duration %v", p.Name, stamp(p.Start), stamp(*p.End), p.Duration))
		}
		if p.Start.Time.Before(runStart) || p.Start.Time.After(runEnd) || (p.End != nil && p.End.Time.After(runEnd)) {
			errs = append(errs, fmt.Errorf("%s is not within the run, %s to %s", p.Name, runStart, runEnd))
		}
	}
	at := func(i int) time.Time { return st.Phases[i].Start.Time }
	end := func(i int) time.Time {
		if e := st.Phases[i].End; e != nil {
			return e.Time
		}
		return at(i)
	}
	order := func(what string, a, b time.Time) {
		if b.Before(a) {
			errs = append(errs, fmt.Errorf("%s: %s is before %s", what, b.Format(time.StampMicro), a.Format(time.StampMicro)))
		}
	}
	same := func(what string, a, b time.Time) {
		if !a.Equal(b) {
			errs = append(errs, fmt.Errorf("%s: %s, want %s", what, b.Format(time.StampMicro), a.Format(time.StampMicro)))
		}
	}
	// Detect, Fence, Promote follow each other from the first request;
	// DNS publishes the commit, after fencing; the first client write
	// acknowledged after fencing ends the outage.
	same("Detect starts at the request", st.Requests[0].RequestedAt.Time, at(0))
	same("Fence starts when Detect ends", end(0), at(1))
	same("Promote starts when Fence ends", end(1), at(2))
	order("DNSPublished after fencing", end(1), at(3))
	order("FirstClientSuccess after fencing", end(1), at(4))
	if len(want) > 5 {
		// The hold runs from the end of the outage to the request to
		// switch back, which came holdFor after the first request
		// completed; the failback runs from there.
		same("Hold starts when the outage ends", end(4), at(5))
		same("Hold ends at the request to switch back", st.Requests[1].RequestedAt.Time, end(5))
		same("Failback starts when Hold ends", end(5), at(6))
		if st.Requests[0].CompletedAt == nil {
			errs = append(errs, errors.New("the first request has no completion time"))
		} else {
			order("the hold lasts holdFor", st.Requests[0].CompletedAt.Add(drillHold), at(6))
		}
	}
	return errors.Join(errs...)
}

// stamp formats a phase time.
func stamp(t metav1.MicroTime) string { return t.Format(time.StampMicro) }

// checkReport checks a run's report files: an SVG document, a PNG image
// and the summary.
func checkReport(t *testing.T, dir string) {
	t.Helper()
	if dir == "" || !strings.HasPrefix(dir, fed.DrillReportDir+string(filepath.Separator)) {
		t.Errorf("reportPath %q, want a directory under %s", dir, fed.DrillReportDir)
		return
	}
	svg, err := os.Open(filepath.Join(dir, "timeline.svg"))
	if err != nil {
		t.Fatal(err)
	}
	defer svg.Close()
	if err := checkSVG(svg); err != nil {
		t.Errorf("timeline.svg: %v", err)
	}
	pf, err := os.Open(filepath.Join(dir, "timeline.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if img, err := png.Decode(pf); err != nil {
		t.Errorf("timeline.png: %v", err)
	} else if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("timeline.png is %v", b)
	}
	if summary, err := os.ReadFile(filepath.Join(dir, "summary.txt")); err != nil || len(summary) == 0 {
		t.Errorf("summary.txt: %d bytes, %v", len(summary), err)
	}
}

// checkSVG parses r as XML to its end and checks that its root is <svg>.
func checkSVG(r io.Reader) error {
	dec := xml.NewDecoder(r)
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return fmt.Errorf("root element <%s>, want <svg>", root)
	}
	return nil
}

// primaryCluster is the cluster the drill's n-th request (from 0) moved
// the primary to, from the service's failover history; empty when the
// history has no record of it.
func primaryCluster(t *testing.T, d *v1alpha1.FailoverDrill, n int) string {
	t.Helper()
	fss, err := getService(t.Context(), d.Spec.Service)
	if err != nil {
		t.Fatal(err)
	}
	if n >= len(d.Status.Requests) {
		return ""
	}
	// The change a request made: the switchover of the lowest epoch above
	// the one it was accepted in.
	var rec *v1alpha1.FailoverRecord
	for i, h := range fss.Status.FailoverHistory {
		if h.Reason == "Switchover" && h.Epoch > d.Status.Requests[n].Epoch && (rec == nil || h.Epoch < rec.Epoch) {
			rec = &fss.Status.FailoverHistory[i]
		}
	}
	if rec == nil {
		return ""
	}
	for _, r := range fss.Status.ReplicaStatuses {
		if r.Ordinal == rec.ToOrdinal {
			return r.Cluster
		}
	}
	return ""
}

// clusterTaints are member cluster name's taints.
func clusterTaints(t *testing.T, name string) []v1alpha1.Taint {
	t.Helper()
	var mc v1alpha1.MemberCluster
	if err := hubc.Get(t.Context(), client.ObjectKey{Name: name}, &mc); err != nil {
		t.Fatal(err)
	}
	return mc.Spec.Taints
}

// isDrillTaint tells a taint a drill set.
func isDrillTaint(tn v1alpha1.Taint) bool { return tn.Key == v1alpha1.TaintDrill }

// checkUntainted checks that no member cluster keeps a drill's taint.
func checkUntainted(t *testing.T) {
	t.Helper()
	var list v1alpha1.MemberClusterList
	if err := hubc.List(t.Context(), &list); err != nil {
		t.Fatal(err)
	}
	for _, mc := range list.Items {
		if slices.ContainsFunc(mc.Spec.Taints, isDrillTaint) {
			t.Errorf("member cluster %s keeps a drill's taint: %+v", mc.Name, mc.Spec.Taints)
		}
	}
}
