package drill

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill/load"
	"github.com/fedstate/fedstate/federation/drill/report"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func mt(s float64) *metav1.MicroTime { m := metav1.NewMicroTime(at(s)); return &m }

// switchover is a history record of a switchover committed in epoch whose
// phases begin at s seconds: detected +0.1, fenced +0.4, committed +0.6,
// promoted +0.9, published +1.0.
func switchover(epoch int64, s float64, loss int64) v1alpha1.FailoverRecord {
	return v1alpha1.FailoverRecord{Reason: "Switchover", Epoch: epoch, Time: metav1.NewTime(at(s + 1)), DataLossBytes: &loss,
		DetectedAt: mt(s + 0.1), FencedAt: mt(s + 0.4), CommittedAt: mt(s + 0.6), PromotedAt: mt(s + 0.9), PublishedAt: mt(s + 1)}
}

// writes are acknowledged every 100 ms over [0 s, 12 s) except during
// [from, to), where they fail as read-only.
func writes(from, to float64) []load.Op {
	var ops []load.Op
	for i := range 120 {
		s := float64(i) / 10
		op := load.Op{Kind: load.Write, ID: int64(i + 1), Invoke: at(s), Return: at(s + 0.05), Outcome: load.OK}
		if s >= from && s < to {
			op.Outcome = load.ErrReadOnly
		}
		ops = append(ops, op)
	}
	return ops
}

// drillRecord is a switchover drill to us-east and back: away at 0 s
// (epoch 1 -> 2), back at 10 s (epoch 2 -> 3), clients refused from
// 0.3 s to 1.2 s.
func drillRecord() Record {
	ops := writes(0.3, 1.2)
	return Record{
		Kind: v1alpha1.DrillSwitchover, Target: "demo/db to us-east",
		Requests: []v1alpha1.DrillRequest{
			{ID: "u-1", To: "us-east", RequestedAt: *mt(0), Phase: v1alpha1.RequestSucceeded, Epoch: 1},
			{ID: "u-2", To: "db-0", RequestedAt: *mt(10), Phase: v1alpha1.RequestSucceeded, Epoch: 2},
		},
		History: []v1alpha1.FailoverRecord{switchover(3, 10, 0), switchover(2, 0, 0),
			{Reason: "Bootstrap", Epoch: 1, Time: metav1.NewTime(at(-60))}},
		Traffic: true, Load: load.Analyze(ops, at(0), at(12), 0), Ops: ops,
		Verified: true,
	}
}

func TestMeasurePhases(t *testing.T) {
	o := Measure(drillRecord())
	want := []report.Phase{
		{Name: PhaseDetect, Start: at(0), End: at(0.1)},
		{Name: PhaseFence, Start: at(0.1), End: at(0.4)},
		{Name: PhasePromote, Start: at(0.4), End: at(0.9)},
		{Name: PhaseDNSPublished, Start: at(1)},
		{Name: PhaseFirstClientSuccess, Start: at(1), End: at(1.25)},
		{Name: PhaseHold, Start: at(1.25), End: at(10)},
		{Name: PhaseFailback, Start: at(10), End: at(11)},
	}
	if len(o.Phases) != len(want) {
		t.Fatalf("phases = %+v\nwant %+v", o.Phases, want)
	}
	for i := range want {
		if g, w := o.Phases[i], want[i]; g.Name != w.Name || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) {
			t.Errorf("phase %d = %s [%s, %s], want %s [%s, %s]", i, g.Name, g.Start.Sub(t0), g.End.Sub(t0), w.Name, w.Start.Sub(t0), w.End.Sub(t0))
		}
	}
	if o.Outage != 5 {
		t.Errorf("outage phases = %d, want 5 (Detect to FirstClientSuccess)", o.Outage)
	}
	if o.RTO != 1250*time.Millisecond {
		t.Errorf("RTO = %s, want 1.25s (request to first acknowledged write)", o.RTO)
	}
	if !o.Failover.Equal(at(0.6)) {
		t.Errorf("failover instant = %s, want the first commit at 0.6s", o.Failover.Sub(t0))
	}
}

func TestMeasureVerdict(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Record)
		result report.Result
		reason string
		rto    time.Duration
		rpo    int64
	}{
		{name: "passed", mutate: func(*Record) {}, result: report.Passed,
			reason: "Switchover of demo/db to us-east: RTO 1.25s, client downtime", rto: 1250 * time.Millisecond},
		{name: "acknowledged writes missing", mutate: func(r *Record) { r.Missing = []int64{3, 4} }, result: report.Failed,
			reason: "2 acknowledged writes are missing on the final primary (ids 3, 4)", rto: 1250 * time.Millisecond},
		{name: "RTO over maxRTO", mutate: func(r *Record) { r.Abort.MaxRTO = &metav1.Duration{Duration: time.Second} }, result: report.Failed,
			reason: "RTO 1.25s exceeded maxRTO 1s", rto: 1250 * time.Millisecond},
		{name: "data loss over budget", mutate: func(r *Record) {
			r.History[1] = switchover(2, 0, 4096)
			r.Abort.MaxDataLossBytes = ptr.To[int64](1024)
		}, result: report.Failed, reason: "lost 4096 bytes of log, over maxDataLossBytes 1024", rto: 1250 * time.Millisecond, rpo: 4096},
		{name: "aborted", mutate: func(r *Record) { r.Aborted = "The coordinator found no replica it may promote" }, result: report.Aborted,
			reason: "no replica it may promote", rto: 1250 * time.Millisecond},
		{name: "refused request", mutate: func(r *Record) {
			r.Requests = r.Requests[:1]
			r.Requests[0].Phase, r.Requests[0].Message = v1alpha1.RequestRefused, "no replica, member cluster or region named us-east"
		}, result: report.Failed, reason: "The switchover to us-east was refused: no replica"},
		{name: "succeeded without history", mutate: func(r *Record) { r.History = r.History[2:] }, result: report.Failed,
			reason: "has no record of it"},
		{name: "no traffic", mutate: func(r *Record) { r.Traffic, r.Ops, r.Load, r.Verified = false, nil, load.Snapshot{}, false }, result: report.Passed,
			reason: "RTO 1s, client traffic not measured", rto: time.Second},
		{name: "not verified", mutate: func(r *Record) { r.Verified, r.VerifyError = false, "connection refused" }, result: report.Failed,
			reason: "could not be verified on the final primary: connection refused", rto: 1250 * time.Millisecond},
		{name: "outage of a region without the primary", mutate: func(r *Record) {
			r.Kind, r.Target, r.Requests, r.Ops = v1alpha1.DrillRegionOutage, "demo/db in ap-south", nil, writes(0, 0)
			r.Load = load.Analyze(r.Ops, at(0), at(12), 0)
		}, result: report.Passed, reason: "RegionOutage of demo/db in ap-south without a change of primary, client downtime 100ms, 0 failed writes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := drillRecord()
			c.mutate(&r)
			o := Measure(r)
			if o.Verdict.Result != c.result || !strings.Contains(o.Verdict.Reason, c.reason) {
				t.Errorf("verdict = %s %q, want %s containing %q", o.Verdict.Result, o.Verdict.Reason, c.result, c.reason)
			}
			if o.RTO != c.rto {
				t.Errorf("RTO = %s, want %s", o.RTO, c.rto)
			}
			if o.RPOBytes != c.rpo {
				t.Errorf("RPO = %d bytes, want %d", o.RPOBytes, c.rpo)
			}
		})
	}
}
