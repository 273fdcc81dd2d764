package report

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedstate/fedstate/federation/drill/load"
)

// Summary is the drill's figures in plain text: verdict, phases with their
// share of the RTO, client downtime and errors, latency, RPO and the
// replicas' peak lag. Times are seconds from the drill's start.
func Summary(d Data) string {
	var b strings.Builder
	origin := d.Origin()
	at := func(t time.Time) string { return formatSeconds(t.Sub(origin)) }

	fmt.Fprintf(&b, "Drill:     %s\n", d.Title)
	verdict := string(d.Verdict.Result)
	if verdict == "" {
		verdict = "none"
	}
	if d.Verdict.Reason != "" {
		verdict += ": " + d.Verdict.Reason
	}
	fmt.Fprintf(&b, "Verdict:   %s\n", verdict)
	fmt.Fprintf(&b, "Start:     %s (t = 0)\n", origin.UTC().Format(time.RFC3339Nano))
	if d.Failover.IsZero() {
		fmt.Fprintf(&b, "Failover:  none\n")
	} else {
		fmt.Fprintf(&b, "Failover:  t = %s\n", at(d.Failover))
	}

	b.WriteString("\nPhases:\n")
	if len(d.Phases) == 0 {
		b.WriteString("  none recorded\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PHASE\tSTART\tEND\tDURATION")
		for _, p := range d.Phases {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Name, at(p.Start), at(p.end()), formatSeconds(p.Duration()))
		}
		tw.Flush()
		how := "first phase's start to last phase's end"
		if d.MeasuredRTO > 0 {
			how = "the request to the first write the new primary acknowledged"
		}
		fmt.Fprintf(&b, "RTO:       %s (%s)\n", formatSeconds(d.RTO()), how)
	}

	b.WriteString("\n")
	writeLoad(&b, d.Load, at)

	b.WriteString("\nData:\n")
	fmt.Fprintf(&b, "  RPO:                %s, %d transactions\n", humanBytes(d.RPO.Bytes), d.RPO.Transactions)
	if len(d.RPO.MissingWrites) == 0 {
		b.WriteString("  missing writes:     none of the acknowledged writes\n")
	} else {
		fmt.Fprintf(&b, "  missing writes:     %d acknowledged: %s\n", len(d.RPO.MissingWrites), idList(d.RPO.MissingWrites, 10))
	}
	for _, s := range d.Lag {
		var peak LagSample
		for _, x := range s.Samples {
			if x.Bytes > peak.Bytes || peak.At.IsZero() {
				peak = x
			}
		}
		if peak.At.IsZero() {
			fmt.Fprintf(&b, "  lag of %-12s no samples\n", s.Replica+":")
			continue
		}
		fmt.Fprintf(&b, "  lag of %-12s peak %s at t = %s\n", s.Replica+":", humanBytes(peak.Bytes), at(peak.At))
	}
	return b.String()
}

// LoadSummary is the client traffic's figures in plain text, as Summary
// shows them, with times in seconds from the traffic's start: writes and
// reads with their errors by kind, write latency, downtime and the gaps.
func LoadSummary(s load.Snapshot) string {
	var b strings.Builder
	writeLoad(&b, s, func(t time.Time) string { return formatSeconds(t.Sub(s.Start)) })
	return b.String()
}

// writeLoad writes the client traffic's figures.
func writeLoad(b *strings.Builder, s load.Snapshot, at func(time.Time) string) {
	b.WriteString("Clients:\n")
	if s.Start.IsZero() {
		b.WriteString("  no traffic recorded\n")
		return
	}
	fmt.Fprintf(b, "  writes:             %d acknowledged, %d failed%s\n", s.Writes.OK, s.Writes.Failed(), byKind(s.Writes))
	if s.Reads.OK+s.Reads.Failed() > 0 {
		fmt.Fprintf(b, "  reads:              %d answered, %d failed%s\n", s.Reads.OK, s.Reads.Failed(), byKind(s.Reads))
	}
	fmt.Fprintf(b, "  write latency:      p50 %s, p99 %s, max %s\n", formatMillis(s.Writes.P50), formatMillis(s.Writes.P99), formatMillis(s.Writes.Max))
	fmt.Fprintf(b, "  downtime:           %s (longest time between two acknowledged writes)\n", formatSeconds(s.Downtime))
	for _, g := range s.Gaps {
		until := fmt.Sprintf("write %d at t = %s", g.BeforeID, at(g.To))
		if g.Open {
			until = "the end, t = " + at(g.To) + ", still failing"
		}
		after := "the start"
		if g.AfterID > 0 {
			after = fmt.Sprintf("write %d", g.AfterID)
		}
		fmt.Fprintf(b, "  gap:                %s from %s at t = %s to %s; %d writes failed\n", formatSeconds(g.Duration()), after, at(g.From), until, g.Errors)
	}
}

// byKind lists the errors of t by kind, in load.Outcomes order:
// " (readonly 3, other 1)".
func byKind(t load.Totals) string {
	var parts []string
	for _, o := range load.Outcomes() {
		if n := t.Errors[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// idList writes at most n ids, then how many more.
func idList(ids []int64, n int) string {
	var parts []string
	for i, id := range ids {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(ids)-n))
			break
		}
		parts = append(parts, fmt.Sprint(id))
	}
	return strings.Join(parts, ", ")
}

// formatMillis writes d in milliseconds with one decimal: "4.2 ms".
func formatMillis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
