package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fedstate/fedstate/federation/drill/load"
	"github.com/fedstate/fedstate/federation/drill/report"
)

// loadReport is fedctl load's summary as a document (-o json). Fields are
// added, never renamed or removed.
type loadReport struct {
	Namespace       string      `json:"namespace"`
	Service         string      `json:"service"`
	PrimaryName     string      `json:"primaryName"`
	DNSServer       string      `json:"dnsServer"`
	Table           string      `json:"table"`
	Run             string      `json:"run"`
	Start           time.Time   `json:"start"`
	End             time.Time   `json:"end"`
	DurationSeconds float64     `json:"durationSeconds"`
	Writes          loadTotals  `json:"writes"`
	Reads           *loadTotals `json:"reads,omitempty"`
	DowntimeSeconds float64     `json:"downtimeSeconds"`
	Gaps            []loadGap   `json:"gaps"`
	LastPrimary     string      `json:"lastPrimary,omitempty"`
	LastID          int64       `json:"lastID"`
}

// loadTotals counts the operations of one kind; latencies are those of
// the successful ones, in milliseconds.
type loadTotals struct {
	OK     int            `json:"ok"`
	Failed int            `json:"failed"`
	Errors map[string]int `json:"errors"`
	P50Ms  float64        `json:"p50Ms"`
	P99Ms  float64        `json:"p99Ms"`
	MaxMs  float64        `json:"maxMs"`
}

// loadGap is a time without acknowledged writes.
type loadGap struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Seconds  float64   `json:"seconds"`
	AfterID  int64     `json:"afterID"`
	BeforeID int64     `json:"beforeID,omitempty"`
	Errors   int       `json:"errors"`
	Open     bool      `json:"open"`
}

// renderLoad prints the summary of a run in format: text or json.
func renderLoad(format string, cfg load.Config, s load.Snapshot) ([]byte, error) {
	switch format {
	case formatJSON:
		b, err := json.MarshalIndent(buildLoadReport(cfg, s), "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode JSON: %w", err)
		}
		return append(b, '\n'), nil
	case "text":
		var b strings.Builder
		fmt.Fprintf(&b, "Service:   %s/%s (%s at %s)\n", cfg.Namespace, cfg.Service, cfg.PrimaryName(), cfg.DNSServer)
		fmt.Fprintf(&b, "Run:       %s in table %s\n", cfg.RunID, cfg.Table)
		fmt.Fprintf(&b, "Ran:       %.3f s from %s\n", s.End.Sub(s.Start).Seconds(), s.Start.UTC().Format(time.RFC3339))
		primary := "none resolved"
		if s.Primary.IsValid() {
			primary = s.Primary.String() + " (the last written to)"
		}
		fmt.Fprintf(&b, "Primary:   %s\nLast row:  %d\n\n", primary, s.LastID)
		b.WriteString(report.LoadSummary(s))
		return []byte(b.String()), nil
	}
	return nil, fmt.Errorf("output format %q: want text or json", format)
}

// buildLoadReport makes the document of a run.
func buildLoadReport(cfg load.Config, s load.Snapshot) loadReport {
	r := loadReport{
		Namespace: cfg.Namespace, Service: cfg.Service, PrimaryName: cfg.PrimaryName(), DNSServer: cfg.DNSServer,
		Table: cfg.Table, Run: cfg.RunID, Start: s.Start.UTC(), End: s.End.UTC(),
		DurationSeconds: s.End.Sub(s.Start).Seconds(), Writes: totals(s.Writes),
		DowntimeSeconds: s.Downtime.Seconds(), Gaps: []loadGap{}, LastID: s.LastID,
	}
	if cfg.ReadRate > 0 {
		reads := totals(s.Reads)
		r.Reads = &reads
	}
	if s.Primary.IsValid() {
		r.LastPrimary = s.Primary.String()
	}
	for _, g := range s.Gaps {
		r.Gaps = append(r.Gaps, loadGap{From: g.From.UTC(), To: g.To.UTC(), Seconds: g.Duration().Seconds(),
			AfterID: g.AfterID, BeforeID: g.BeforeID, Errors: g.Errors, Open: g.Open})
	}
	return r
}

func totals(t load.Totals) loadTotals {
	out := loadTotals{OK: t.OK, Failed: t.Failed(), Errors: map[string]int{},
		P50Ms: ms(t.P50), P99Ms: ms(t.P99), MaxMs: ms(t.Max)}
	for o, n := range t.Errors {
		out.Errors[string(o)] = n
	}
	return out
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
