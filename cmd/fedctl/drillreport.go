package main

import (
	"cmp"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	eventsv1 "k8s.io/api/events/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// drillReport is what fedctl drill report prints about a drill's last run:
// -o json and -o yaml print it as it is, -o table lays it out. Its JSON
// field names are the documented output format: add fields, never rename
// or remove them. Lists are empty, never null.
type drillReport struct {
	// Namespace of the drill.
	Namespace string `json:"namespace"`
	// Name of the drill.
	Name string `json:"name"`
	// Service is spec.service.
	Service string `json:"service"`
	// Kind is spec.kind.
	Kind v1alpha1.DrillKind `json:"kind"`
	// TargetRegion is the region the run used (status.targetRegion, else
	// spec.targetRegion).
	TargetRegion string `json:"targetRegion"`
	// Schedule is spec.schedule; empty for a drill that runs once.
	Schedule string `json:"schedule"`
	// Run is the number of the last run (status.runs); 0 before the first.
	Run int32 `json:"run"`
	// Phase is status.phase.
	Phase v1alpha1.DrillPhase `json:"phase"`
	// Step is status.step.
	Step v1alpha1.DrillStep `json:"step"`
	// OriginalPrimary is the replica that was primary when the run began.
	OriginalPrimary string `json:"originalPrimary"`
	// StartedAt is when the run began; null before the first.
	StartedAt *time.Time `json:"startedAt"`
	// FinishedAt is when it ended; null while it runs.
	FinishedAt *time.Time `json:"finishedAt"`
	// Phases are the measured phases, in the order they began.
	Phases []drillPhase `json:"phases"`
	// RTO is status.rto, a Go duration; empty when not measured.
	RTO string `json:"rto"`
	// RPOBytes is the log the run's promotions lost; null when unknown.
	RPOBytes *int64 `json:"rpoBytes"`
	// RPOTransactions counts acknowledged writes missing on the final
	// primary; null when not verified.
	RPOTransactions *int64 `json:"rpoTransactions"`
	// Errors counts the client writes that failed.
	Errors int64 `json:"errors"`
	// Downtime is the longest time clients could not write, a Go duration;
	// empty without client traffic.
	Downtime string `json:"downtime"`
	// Verdict is Passed, Failed or Aborted; empty before the run ends.
	Verdict v1alpha1.DrillVerdict `json:"verdict"`
	// Reason explains the verdict.
	Reason string `json:"reason"`
	// Requests are the switchovers the run requested, in order.
	Requests []drillRequest `json:"requests"`
	// History are the runs that ended, newest first, from the drill's
	// events the hub still keeps.
	History []drillRun `json:"history"`
	// Files are the run's report files on the hub.
	Files drillFiles `json:"files"`
}

// drillPhase is one measured phase.
type drillPhase struct {
	// Name of the phase.
	Name string `json:"name"`
	// Start of the phase.
	Start time.Time `json:"start"`
	// Duration in Go syntax; empty for an instant.
	Duration string `json:"duration"`
}

// drillRequest is one switchover the run requested.
type drillRequest struct {
	// ID of the request.
	ID string `json:"id"`
	// To is the request's target.
	To string `json:"to"`
	// Phase of the request; empty until the coordinator answered.
	Phase v1alpha1.RequestPhase `json:"phase"`
	// Epoch of the primary when the coordinator accepted it.
	Epoch int64 `json:"epoch"`
	// Message is the coordinator's.
	Message string `json:"message"`
	// RequestedAt is when the drill asked.
	RequestedAt time.Time `json:"requestedAt"`
	// Took is the time to its final phase, a Go duration; empty before.
	Took string `json:"took"`
}

// drillRun is one finished run, from its event.
type drillRun struct {
	// Time the run ended (the event's time).
	Time time.Time `json:"time"`
	// Result is Passed, Failed, Aborted or Invalid.
	Result string `json:"result"`
	// Message is the event's note: the verdict's reason.
	Message string `json:"message"`
}

// drillFiles are the report files of the last run.
type drillFiles struct {
	// Dir is status.reportPath; empty when no report was written.
	Dir string `json:"dir"`
	// Summary is the path of summary.txt.
	Summary string `json:"summary"`
	// SummaryText is summary.txt's content when it was readable on this
	// machine; empty otherwise.
	SummaryText string `json:"summaryText"`
	// Timelines are the paths of timeline.svg and timeline.png.
	Timelines []string `json:"timelines"`
}

// resultOfEvent maps the drill's finishing events to results.
var resultOfEvent = map[string]string{"DrillSucceeded": "Passed", "DrillFailed": "Failed", "DrillAborted": "Aborted", "DrillInvalid": "Invalid"}

// buildDrillReport describes d's last run; events are the events of its
// namespace (those of other objects are skipped) and summary the content
// of its summary.txt, empty when unreadable.
func buildDrillReport(d *v1alpha1.FailoverDrill, events []eventsv1.Event, summary string) *drillReport {
	st := &d.Status
	r := &drillReport{Namespace: d.Namespace, Name: d.Name, Service: d.Spec.Service, Kind: d.Spec.Kind,
		TargetRegion: cmp.Or(st.TargetRegion, d.Spec.TargetRegion), Schedule: d.Spec.Schedule, Run: st.Runs,
		Phase: st.Phase, Step: st.Step, OriginalPrimary: st.OriginalPrimary,
		StartedAt: timeOf(st.StartedAt), FinishedAt: timeOf(st.FinishedAt), Phases: []drillPhase{},
		RTO: durationOf(st.RTO), RPOBytes: st.RPOBytes, RPOTransactions: st.RPOTransactions, Errors: st.Errors,
		Downtime: durationOf(st.Downtime), Verdict: st.Verdict, Reason: st.Reason,
		Requests: []drillRequest{}, History: []drillRun{}, Files: drillFiles{Timelines: []string{}}}
	for _, p := range st.Phases {
		r.Phases = append(r.Phases, drillPhase{Name: p.Name, Start: p.Start.UTC(), Duration: durationOf(p.Duration)})
	}
	for _, q := range st.Requests {
		x := drillRequest{ID: q.ID, To: q.To, Phase: q.Phase, Epoch: q.Epoch, Message: q.Message, RequestedAt: q.RequestedAt.UTC()}
		if q.CompletedAt != nil {
			x.Took = q.CompletedAt.Sub(q.RequestedAt.Time).Round(time.Millisecond).String()
		}
		r.Requests = append(r.Requests, x)
	}
	for _, e := range events {
		result, ok := resultOfEvent[e.Reason]
		if !ok || e.Regarding.Kind != "FailoverDrill" || e.Regarding.Name != d.Name || (e.Regarding.UID != "" && e.Regarding.UID != d.UID) {
			continue
		}
		r.History = append(r.History, drillRun{Time: eventTime(&e), Result: result, Message: e.Note})
	}
	slices.SortStableFunc(r.History, func(a, b drillRun) int { return b.Time.Compare(a.Time) })
	if dir := st.ReportPath; dir != "" {
		r.Files = drillFiles{Dir: dir, Summary: path.Join(dir, "summary.txt"), SummaryText: summary,
			Timelines: []string{path.Join(dir, "timeline.svg"), path.Join(dir, "timeline.png")}}
	}
	return r
}

// eventTime is when an event last happened, in UTC.
func eventTime(e *eventsv1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.UTC()
	case !e.EventTime.IsZero():
		return e.EventTime.UTC()
	}
	return e.DeprecatedLastTimestamp.UTC()
}

// renderDrillReport prints d's last run in format; see buildDrillReport.
func renderDrillReport(format string, d *v1alpha1.FailoverDrill, events []eventsv1.Event, summary string) ([]byte, error) {
	r := buildDrillReport(d, events, summary)
	return render(format, r, func(w io.Writer) { writeDrillReport(w, r) })
}

// writeDrillReport lays the report out for people.
func writeDrillReport(w io.Writer, r *drillReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Drill:\t%s/%s, %s of %s, target region %s\n", r.Namespace, r.Name, r.Kind, r.Service, orDash(r.TargetRegion))
	if r.Schedule != "" {
		fmt.Fprintf(tw, "Schedule:\t%s (UTC)\n", r.Schedule)
	}
	fmt.Fprintf(tw, "Run:\t%s\n", runLine(r))
	if r.OriginalPrimary != "" {
		fmt.Fprintf(tw, "Primary before:\t%s\n", r.OriginalPrimary)
	}
	fmt.Fprintf(tw, "Verdict:\t%s\n", verdictLine(r))
	fmt.Fprintf(tw, "RTO:\t%s\n", orDash(r.RTO))
	fmt.Fprintf(tw, "RPO:\t%s of log, %s acknowledged writes lost\n", bytesOrDash(r.RPOBytes), countOrDash(r.RPOTransactions))
	fmt.Fprintf(tw, "Downtime:\t%s (longest time clients could not write)\n", orDash(r.Downtime))
	fmt.Fprintf(tw, "Failed writes:\t%d\n", r.Errors)
	tw.Flush()

	if len(r.Phases) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "PHASE\tSTART\tDURATION")
		for _, p := range r.Phases {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, p.Start.Format(millisRFC3339), cmp.Or(p.Duration, "(instant)"))
		}
		tw.Flush()
	}
	if len(r.Requests) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Switchovers requested:")
		fmt.Fprintln(tw, "  ID\tTO\tPHASE\tEPOCH\tTOOK\tMESSAGE")
		for _, q := range r.Requests {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", q.ID, q.To, orDash(string(q.Phase)), q.Epoch, orDash(q.Took), q.Message)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if len(r.History) == 0 {
		fmt.Fprintln(w, "Past runs: none recorded in the hub's events (they expire after an hour by default).")
	} else {
		fmt.Fprintln(w, "Past runs (newest first, from the hub's events):")
		fmt.Fprintln(tw, "  TIME\tRESULT\tMESSAGE")
		for _, h := range r.History {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", h.Time.Format(time.RFC3339), h.Result, h.Message)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if r.Files.Dir == "" {
		fmt.Fprintln(w, "Report files: none written for this run.")
		return
	}
	fmt.Fprintf(w, "Report files (on the hub, %s):\n", r.Files.Dir)
	for _, p := range append([]string{r.Files.Summary}, r.Files.Timelines...) {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if r.Files.SummaryText == "" {
		fmt.Fprintln(w, "summary.txt is not readable on this machine.")
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "summary.txt:")
	fmt.Fprint(w, indent(r.Files.SummaryText, "  "))
}

// runLine describes the run: number, phase and step, start and end.
func runLine(r *drillReport) string {
	if r.Run == 0 || r.StartedAt == nil {
		return "none yet (" + orDash(string(r.Phase)) + ")"
	}
	s := fmt.Sprintf("#%d, %s", r.Run, r.Phase)
	if r.Step != "" {
		s += ", step " + string(r.Step)
	}
	s += ", started " + r.StartedAt.Format(time.RFC3339)
	if r.FinishedAt != nil {
		s += ", finished " + r.FinishedAt.Format(time.RFC3339) + " (" + r.FinishedAt.Sub(*r.StartedAt).Round(time.Second).String() + ")"
	}
	return s
}

// verdictLine is the verdict and its reason.
func verdictLine(r *drillReport) string {
	if r.Verdict == "" {
		return "none yet"
	}
	return strings.TrimSuffix(string(r.Verdict)+": "+r.Reason, ": ")
}

// millisRFC3339 is RFC 3339 with milliseconds, always three digits, so
// that the phases' start times align.
const millisRFC3339 = "2006-01-02T15:04:05.000Z07:00"
