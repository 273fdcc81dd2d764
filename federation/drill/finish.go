package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill/load"
	"github.com/fedstate/fedstate/federation/drill/report"
)

// report stops the traffic, reads the acknowledged writes back from the
// final primary, measures the run, writes its report and ends it.
func (r *Reconciler) report(ctx context.Context, d *v1alpha1.FailoverDrill, fss *v1alpha1.FederatedStatefulSet, now time.Time) (ctrl.Result, error) {
	rec := Record{
		Kind: d.Spec.Kind, Target: target(d), Requests: d.Status.Requests,
		History: fss.Status.FailoverHistory, Abort: d.Spec.Abort,
	}
	if d.Status.Verdict == v1alpha1.VerdictAborted {
		rec.Aborted = d.Status.Reason
	}
	var lag []report.LagSeries
	if rn := r.runs.get(d.UID, d.Status.Runs); rn != nil {
		if wait := settleWait(d, rn.traffic.Ops(), now); wait > 0 {
			return ctrl.Result{RequeueAfter: min(wait, r.Config.PollInterval)}, nil
		}
		r.runs.stop(d.UID)
		rec.Traffic, rec.Load, rec.Ops, lag = true, rn.traffic.Snapshot(), rn.traffic.Ops(), rn.lagSeries()
		if addr, err := primaryAddr(fss); err != nil {
			rec.VerifyError = err.Error()
		} else {
			vctx, cancel := context.WithTimeout(ctx, r.Config.VerifyTimeout)
			missing, err := rn.traffic.Verify(vctx, addr)
			cancel()
			if err != nil {
				rec.VerifyError = err.Error()
			} else {
				rec.Verified, rec.Missing = true, missing
			}
		}
	}
	out := Measure(rec)
	st := &d.Status
	st.Phases = phaseRecords(out.Phases)
	st.RTO, st.RPOBytes, st.RPOTransactions, st.Downtime = nil, &out.RPOBytes, nil, nil
	if out.RTO > 0 {
		st.RTO = &metav1.Duration{Duration: out.RTO}
	}
	if rec.Traffic {
		st.Errors = int64(rec.Load.Writes.Failed())
		st.Downtime = &metav1.Duration{Duration: rec.Load.Downtime}
	}
	if rec.Verified {
		n := int64(len(rec.Missing))
		st.RPOTransactions = &n
	}
	data := report.Data{
		Title: fmt.Sprintf("%s drill of %s/%s, run %d", d.Spec.Kind, d.Namespace, d.Spec.Service, st.Runs),
		Start: st.StartedAt.Time, Phases: out.Phases[:out.Outage], Failover: out.Failover,
		Load: rec.Load, Lag: lag, Verdict: out.Verdict,
		RPO:         report.RPO{Bytes: out.RPOBytes, Transactions: int64(len(rec.Missing)), MissingWrites: rec.Missing},
		MeasuredRTO: out.RTO,
	}
	dir := filepath.Join(r.Config.ReportDir, d.Namespace, fmt.Sprintf("%s-%d", d.Name, st.Runs))
	if err := writeReport(dir, data, out.Phases[out.Outage:]); err != nil {
		r.warn(d, "ReportNotWritten", "Report", err.Error())
	} else {
		st.ReportPath = dir
	}
	r.runs.forget(d.UID)
	r.finish(d, now, v1alpha1.DrillVerdict(out.Verdict.Result), out.Verdict.Reason)
	if _, _, next, err := due(d, now); err == nil && !next.IsZero() {
		return ctrl.Result{RequeueAfter: next.Sub(now)}, nil
	}
	return ctrl.Result{}, nil
}

// settleTime bounds how long a run's traffic goes on after its last
// switchover completed, waiting for a write acknowledged by the final
// primary: clients find a new primary by DNS within a second or two, and a
// report that ends with the clients still failing says nothing about how
// the service came back.
const settleTime = 10 * time.Second

// settleWait is how much longer the traffic should run before the report:
// until a write begun after the last switchover completed is acknowledged,
// at most settleTime after the completion.
func settleWait(d *v1alpha1.FailoverDrill, ops []load.Op, now time.Time) time.Duration {
	n := len(d.Status.Requests)
	if n == 0 || d.Status.Requests[n-1].CompletedAt == nil {
		return 0
	}
	done := d.Status.Requests[n-1].CompletedAt.Time
	for i := len(ops) - 1; i >= 0; i-- {
		if op := ops[i]; op.Kind == load.Write && op.Outcome == load.OK && op.Invoke.After(done) {
			return 0
		}
	}
	return max(0, done.Add(settleTime).Sub(now))
}

// finish ends the run with verdict and reason.
func (r *Reconciler) finish(d *v1alpha1.FailoverDrill, now time.Time, verdict v1alpha1.DrillVerdict, reason string) {
	st := &d.Status
	st.Verdict, st.Reason, st.Step = verdict, reason, v1alpha1.DrillStepDone
	t := metav1.NewTime(now)
	st.FinishedAt = &t
	switch verdict {
	case v1alpha1.VerdictPassed:
		st.Phase = v1alpha1.DrillSucceeded
		r.normal(d, "DrillSucceeded", "Finish", reason)
	case v1alpha1.VerdictAborted:
		st.Phase = v1alpha1.DrillAborted
		r.warn(d, "DrillAborted", "Finish", reason)
	default:
		st.Phase = v1alpha1.DrillFailed
		r.warn(d, "DrillFailed", "Finish", reason)
	}
	r.progress(d, v1alpha1.ReasonDrillFinished, fmt.Sprintf("Run %d: %s: %s", st.Runs, verdict, reason))
}

// observeRun counts a finished run in the metrics, once its status is
// stored.
func observeRun(d *v1alpha1.FailoverDrill) {
	runsTotal.WithLabelValues(string(d.Spec.Kind), string(d.Status.Verdict)).Inc()
	if d.Status.RTO != nil {
		rtoSeconds.WithLabelValues(string(d.Spec.Kind)).Observe(d.Status.RTO.Duration.Seconds())
	}
}

// target describes a run's target for its verdict.
func target(d *v1alpha1.FailoverDrill) string {
	if d.Spec.Kind == v1alpha1.DrillRegionOutage {
		return fmt.Sprintf("%s/%s in %s", d.Namespace, d.Spec.Service, d.Status.TargetRegion)
	}
	return fmt.Sprintf("%s/%s to %s", d.Namespace, d.Spec.Service, d.Status.TargetRegion)
}

// primaryAddr is the address of the service's primary server.
func primaryAddr(fss *v1alpha1.FederatedStatefulSet) (netip.AddrPort, error) {
	p := fss.Status.Primary
	if p == nil {
		return netip.AddrPort{}, fmt.Errorf("%s has no primary", fss.Name)
	}
	for _, rs := range fss.Status.ReplicaStatuses {
		if rs.Ordinal != p.Ordinal {
			continue
		}
		addr, err := netip.ParseAddr(rs.PodIP)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("primary %s has no pod IP (%q)", replicaName(fss.Name, p.Ordinal), rs.PodIP)
		}
		return netip.AddrPortFrom(addr, port(fss)), nil
	}
	return netip.AddrPort{}, fmt.Errorf("primary %s has no replica status", replicaName(fss.Name, p.Ordinal))
}

// phaseRecords converts measured phases to the status's.
func phaseRecords(phases []report.Phase) []v1alpha1.DrillPhaseRecord {
	out := make([]v1alpha1.DrillPhaseRecord, 0, len(phases))
	for _, p := range phases {
		pr := v1alpha1.DrillPhaseRecord{Name: p.Name, Start: metav1.NewMicroTime(p.Start)}
		if !p.End.IsZero() {
			end := metav1.NewMicroTime(p.End)
			pr.End, pr.Duration = &end, &metav1.Duration{Duration: p.Duration()}
		}
		out = append(out, pr)
	}
	return out
}

// writeReport writes a run's report into dir: timeline.svg, timeline.png
// and summary.txt, which ends with the phases after the outage (hold,
// failback).
func writeReport(dir string, data report.Data, after []report.Phase) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("drill report: %w", err)
	}
	var svg, png bytes.Buffer
	size := report.DefaultSize()
	summary := report.Summary(data)
	if len(after) > 0 {
		summary += "\nAfter the outage:\n"
		for _, p := range after {
			summary += fmt.Sprintf("  %-20s %8.3fs  %s\n", p.Name, p.Duration().Seconds(), p.Start.UTC().Format(time.RFC3339Nano))
		}
	}
	return errors.Join(
		report.WriteSVG(&svg, data, size),
		report.WritePNG(&png, data, size),
		os.WriteFile(filepath.Join(dir, "timeline.svg"), svg.Bytes(), 0o644),
		os.WriteFile(filepath.Join(dir, "timeline.png"), png.Bytes(), 0o644),
		os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(summary), 0o644),
	)
}
