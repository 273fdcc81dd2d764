package drill

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill/load"
	"github.com/fedstate/fedstate/federation/drill/report"
)

// Phase names of a drill, in the order they happen.
const (
	PhaseDetect             = "Detect"
	PhaseFence              = "Fence"
	PhasePromote            = "Promote"
	PhaseDNSPublished       = "DNSPublished"
	PhaseFirstClientSuccess = "FirstClientSuccess"
	PhaseHold               = "Hold"
	PhaseFailback           = "Failback"
)

// Record is what a drill run recorded, the input of Measure.
type Record struct {
	// Kind of drill.
	Kind v1alpha1.DrillKind
	// Target names where the run moved the primary or which region it
	// treated as lost, for the verdict's sentence.
	Target string
	// Requests are the switchovers the run requested, in order.
	Requests []v1alpha1.DrillRequest
	// History is the service's status.failoverHistory (newest first).
	History []v1alpha1.FailoverRecord
	// Traffic tells whether client traffic was measured; Load and Ops are
	// its snapshot and operations.
	Traffic bool
	// Load is the client traffic's summary.
	Load load.Snapshot
	// Ops are the client's operations, writes in the order issued.
	Ops []load.Op
	// Verified tells whether the acknowledged writes were read back from
	// the final primary; Missing are those it lacked, VerifyError why
	// they could not be read.
	Verified    bool
	Missing     []int64
	VerifyError string
	// Aborted is the abort criterion that stopped the run; empty when none
	// did.
	Aborted string
	// Abort are the drill's criteria.
	Abort v1alpha1.DrillAbort
}

// Outcome is what Measure computes from a Record.
type Outcome struct {
	// Phases are the measured phases in the order they began.
	Phases []report.Phase
	// Outage is how many of Phases belong to the first change of
	// primary (Detect to FirstClientSuccess): the report's timeline.
	Outage int
	// RTO is the first change of primary's: from its request to the first
	// write the new primary acknowledged, or to its publication in DNS
	// without traffic; zero when there was none.
	RTO time.Duration
	// RPOBytes is the log lost by the run's promotions.
	RPOBytes int64
	// Failover is the first promotion's commit; zero when there was none.
	Failover time.Time
	// Verdict is the run's result and why.
	Verdict report.Verdict
}

// Measure computes a run's phases, RTO, RPO and verdict. It is a pure
// function of its argument.
func Measure(r Record) Outcome {
	var o Outcome
	for i, req := range r.Requests {
		rec := recordOf(req, r.History)
		if rec == nil {
			continue
		}
		if rec.DataLossBytes != nil {
			o.RPOBytes += *rec.DataLossBytes
		}
		if i > 0 {
			// The way back: one phase, after the hold.
			if len(o.Phases) > 0 {
				hold := last(o.Phases).End
				if hold.IsZero() {
					hold = last(o.Phases).Start
				}
				o.Phases = append(o.Phases, report.Phase{Name: PhaseHold, Start: hold, End: req.RequestedAt.Time})
			}
			if end := micro(rec.PublishedAt); !end.IsZero() {
				o.Phases = append(o.Phases, report.Phase{Name: PhaseFailback, Start: req.RequestedAt.Time, End: end})
			}
			continue
		}
		o.Phases = append(o.Phases, changePhases(req, rec, r.Ops)...)
		o.Outage = len(o.Phases)
		o.Failover = micro(rec.CommittedAt)
		if n := len(o.Phases); n > 0 {
			end := o.Phases[n-1].End
			if end.IsZero() {
				end = o.Phases[n-1].Start
			}
			o.RTO = end.Sub(req.RequestedAt.Time)
		}
	}
	o.Verdict = verdict(r, o)
	return o
}

// changePhases are the phases of one change of primary: detection of the
// request, fencing of the old primary, promotion of the new one, its
// publication in DNS and the first client write it acknowledged.
func changePhases(req v1alpha1.DrillRequest, rec *v1alpha1.FailoverRecord, ops []load.Op) []report.Phase {
	var out []report.Phase
	add := func(name string, start, end time.Time) {
		if !start.IsZero() && !end.IsZero() && !end.Before(start) {
			out = append(out, report.Phase{Name: name, Start: start, End: end})
		}
	}
	detected, fenced, promoted, published := micro(rec.DetectedAt), micro(rec.FencedAt), micro(rec.PromotedAt), micro(rec.PublishedAt)
	add(PhaseDetect, req.RequestedAt.Time, detected)
	add(PhaseFence, detected, fenced)
	add(PhasePromote, fenced, promoted)
	if !published.IsZero() {
		out = append(out, report.Phase{Name: PhaseDNSPublished, Start: published})
	}
	// The old primary refuses writes from fencedAt on: the first write
	// acknowledged after it went to the new one.
	after := fenced
	if after.IsZero() {
		after = micro(rec.CommittedAt)
	}
	if first, ok := firstAckAfter(ops, after); ok && !published.IsZero() {
		if first.After(published) {
			out = append(out, report.Phase{Name: PhaseFirstClientSuccess, Start: published, End: first})
		} else {
			out = append(out, report.Phase{Name: PhaseFirstClientSuccess, Start: first})
		}
	}
	return out
}

// recordOf finds the change of primary a succeeded request made: the
// switchover of the lowest epoch above the one the request was accepted
// in.
func recordOf(req v1alpha1.DrillRequest, history []v1alpha1.FailoverRecord) *v1alpha1.FailoverRecord {
	if req.Phase != v1alpha1.RequestSucceeded {
		return nil
	}
	var best *v1alpha1.FailoverRecord
	for i := range history {
		h := &history[i]
		if h.Reason == "Switchover" && h.Epoch > req.Epoch && (best == nil || h.Epoch < best.Epoch) {
			best = h
		}
	}
	return best
}

// firstAckAfter is the return time of the first acknowledged write that
// returned after t.
func firstAckAfter(ops []load.Op, t time.Time) (time.Time, bool) {
	if t.IsZero() {
		return time.Time{}, false
	}
	var first time.Time
	for _, op := range ops {
		if op.Kind == load.Write && op.Outcome == load.OK && op.Return.After(t) && (first.IsZero() || op.Return.Before(first)) {
			first = op.Return
		}
	}
	return first, !first.IsZero()
}

// verdict judges a run against the drill's criteria, the first failed
// one named.
func verdict(r Record, o Outcome) report.Verdict {
	if r.Aborted != "" {
		return report.Verdict{Result: report.Aborted, Reason: r.Aborted}
	}
	fail := func(format string, args ...any) report.Verdict {
		return report.Verdict{Result: report.Failed, Reason: fmt.Sprintf(format, args...)}
	}
	for _, req := range r.Requests {
		if req.Phase == v1alpha1.RequestRefused || req.Phase == v1alpha1.RequestFailed {
			return fail("The switchover to %s was %s: %s", req.To, strings.ToLower(string(req.Phase)), req.Message)
		}
		if req.Phase == v1alpha1.RequestSucceeded && recordOf(req, r.History) == nil {
			return fail("The switchover to %s succeeded but the service's failover history has no record of it", req.To)
		}
	}
	if max := r.Abort.MaxRTO; max != nil && o.RTO > max.Duration {
		return fail("RTO %s exceeded maxRTO %s", o.RTO.Round(time.Millisecond), max.Duration)
	}
	if max := r.Abort.MaxDataLossBytes; max != nil && o.RPOBytes > *max {
		return fail("The promotions lost %d bytes of log, over maxDataLossBytes %d", o.RPOBytes, *max)
	}
	if r.Traffic && !r.Verified {
		return fail("The acknowledged writes could not be verified on the final primary: %s", r.VerifyError)
	}
	if n := len(r.Missing); n > 0 {
		return fail("%d acknowledged writes are missing on the final primary (ids %s)", n, ids(r.Missing, 5))
	}
	var b strings.Builder
	switch {
	case len(r.Requests) == 0:
		fmt.Fprintf(&b, "%s of %s without a change of primary", r.Kind, r.Target)
	default:
		fmt.Fprintf(&b, "%s of %s: RTO %s", r.Kind, r.Target, o.RTO.Round(time.Millisecond))
	}
	if r.Traffic {
		fmt.Fprintf(&b, ", client downtime %s, %d failed writes, no acknowledged write lost", r.Load.Downtime.Round(time.Millisecond), r.Load.Writes.Failed())
	} else {
		b.WriteString(", client traffic not measured")
	}
	return report.Verdict{Result: report.Passed, Reason: b.String()}
}

// ids lists at most n of ids.
func ids(v []int64, n int) string {
	v = slices.Clone(v)
	more := ""
	if len(v) > n {
		v, more = v[:n], ", ..."
	}
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ") + more
}

// micro is t's time; zero for nil.
func micro(t *metav1.MicroTime) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// last is the last of p, which is not empty.
func last(p []report.Phase) report.Phase { return p[len(p)-1] }
