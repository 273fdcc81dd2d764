package report

import (
	"time"

	"github.com/fedstate/fedstate/federation/drill/load"
)

// Data is what a drill recorded, the input of the picture and the summary.
// Times are absolute; both show them as seconds from Origin.
type Data struct {
	// Title names the drill, for example "Switchover of prod/db to us-east".
	Title string
	// Start is the drill's start, t = 0 s on every axis; zero means the
	// earliest time in the data.
	Start time.Time
	// Phases are the drill's steps in the order they began, such as
	// detect, fence, promote, DNS published and first client success.
	Phases []Phase
	// Failover is the instant the primary changed (the promotion's commit);
	// zero when there was none.
	Failover time.Time
	// Load is the client traffic during the drill.
	Load load.Snapshot
	// Lag is the replication lag of each replica over time.
	Lag []LagSeries
	// Verdict is the drill's outcome.
	Verdict Verdict
	// RPO is the data lost.
	RPO RPO
	// MeasuredRTO is the RTO the drill measured: from its request to the
	// first write acknowledged by the new primary (to DNS publication
	// without traffic). Zero: RTO spans the phases.
	MeasuredRTO time.Duration
}

// Phase is one step of a drill, from Start to End. A zero End marks an
// instant (End = Start), such as "DNS published".
type Phase struct {
	// Name is shown on the picture's phase axis and in the summary.
	Name string
	// Start and End bound the step.
	Start, End time.Time
}

// Duration is the phase's length, its share of the RTO.
func (p Phase) Duration() time.Duration {
	if p.End.IsZero() {
		return 0
	}
	return p.End.Sub(p.Start)
}

// end is End, or Start for an instant.
func (p Phase) end() time.Time {
	if p.End.IsZero() {
		return p.Start
	}
	return p.End
}

// LagSeries is the replication lag of one replica.
type LagSeries struct {
	// Replica names it ("db-2").
	Replica string
	// Samples are its lag over time, in time order.
	Samples []LagSample
}

// LagSample is a replica's lag behind the primary at one time.
type LagSample struct {
	// At is when it was measured.
	At time.Time
	// Bytes is how far behind the primary's log the replica's replay was.
	Bytes int64
}

// Result is the verdict of a drill.
type Result string

// The results of a drill.
const (
	// Passed: every criterion held.
	Passed Result = "Passed"
	// Failed: a criterion did not hold; Verdict.Reason says which.
	Failed Result = "Failed"
	// Aborted: the drill stopped early, by an abort criterion or the
	// operator.
	Aborted Result = "Aborted"
)

// Verdict is a drill's outcome and why.
type Verdict struct {
	// Result is Passed, Failed or Aborted.
	Result Result
	// Reason explains the result in one sentence.
	Reason string
}

// RPO is the data a drill lost.
type RPO struct {
	// Bytes of log the new primary lacked of the old one.
	Bytes int64
	// Transactions the new primary lacked.
	Transactions int64
	// MissingWrites are the acknowledged client writes not found after the
	// drill (load.Generator.Verify).
	MissingWrites []int64
}

// Origin is t = 0 s: Start, or the earliest time in the data.
func (d Data) Origin() time.Time {
	if !d.Start.IsZero() {
		return d.Start
	}
	var o time.Time
	early := func(t time.Time) {
		if !t.IsZero() && (o.IsZero() || t.Before(o)) {
			o = t
		}
	}
	for _, p := range d.Phases {
		early(p.Start)
	}
	early(d.Failover)
	early(d.Load.Start)
	for _, s := range d.Lag {
		for _, x := range s.Samples {
			early(x.At)
		}
	}
	return o
}

// last is the latest time in the data.
func (d Data) last() time.Time {
	var l time.Time
	late := func(t time.Time) {
		if t.After(l) {
			l = t
		}
	}
	for _, p := range d.Phases {
		late(p.end())
	}
	late(d.Failover)
	late(d.Load.End)
	for _, s := range d.Lag {
		for _, x := range s.Samples {
			late(x.At)
		}
	}
	return l
}

// RTO is MeasuredRTO when set, else the time from the first phase's start
// to the last phase's end; zero without phases.
func (d Data) RTO() time.Duration {
	if d.MeasuredRTO > 0 {
		return d.MeasuredRTO
	}
	if len(d.Phases) == 0 {
		return 0
	}
	first, last := d.Phases[0].Start, d.Phases[0].end()
	for _, p := range d.Phases {
		if p.Start.Before(first) {
			first = p.Start
		}
		if p.end().After(last) {
			last = p.end()
		}
	}
	return last.Sub(first)
}
