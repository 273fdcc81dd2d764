package failover

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// figures are the durations measured over the failovers of one system,
// by figure name, in the order the names were first added, with the rows
// lost and the samples that found two writable servers.
type figures struct {
	system string
	order  []string
	vals   map[string][]time.Duration
	// lost counts acknowledged rows missing after a failover.
	lost int
	// overlaps counts samples that found two writable servers.
	overlaps int
}

func newFigures(system string) *figures {
	return &figures{system: system, vals: map[string][]time.Duration{}}
}

// add records one value of the named figure.
func (f *figures) add(name string, d time.Duration) {
	if _, ok := f.vals[name]; !ok {
		f.order = append(f.order, name)
	}
	f.vals[name] = append(f.vals[name], d)
}

// stats returns the median (the lower one of an even count) and the
// maximum of the named figure; ok is false when it has no value.
func (f *figures) stats(name string) (p50, highest time.Duration, ok bool) {
	vs := slices.Clone(f.vals[name])
	if len(vs) == 0 {
		return 0, 0, false
	}
	slices.Sort(vs)
	return vs[(len(vs)-1)/2], vs[len(vs)-1], true
}

// report hands the figures to the benchmark framework, as
// <figure>-p50-s and <figure>-max-s, rows-lost and two-writable.
func (f *figures) report(b *testing.B) {
	b.ReportMetric(0, "ns/op")
	for _, n := range f.order {
		p50, highest, _ := f.stats(n)
		b.ReportMetric(p50.Seconds(), n+"-p50-s")
		b.ReportMetric(highest.Seconds(), n+"-max-s")
	}
	b.ReportMetric(float64(f.lost), "rows-lost")
	b.ReportMetric(float64(f.overlaps), "two-writable")
}

// summary is one line: every figure's p50 and max, rows lost, overlaps.
func (f *figures) summary() string {
	if len(f.order) == 0 {
		return f.system + ": no failover measured"
	}
	var parts []string
	for _, n := range f.order {
		p50, highest, _ := f.stats(n)
		parts = append(parts, fmt.Sprintf("%s p50 %s max %s", n, seconds(p50), seconds(highest)))
	}
	return fmt.Sprintf("%s, %d failovers: %s; %d rows lost; %d samples with two writable servers",
		f.system, len(f.vals[f.order[0]]), strings.Join(parts, ", "), f.lost, f.overlaps)
}

// seconds prints d in seconds with two decimals.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// table prints the figures of several systems side by side: one row per
// figure name, p50 / max per system, "—" where a system lacks it.
func table(all []*figures) string {
	var names []string
	for _, f := range all {
		for _, n := range f.order {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	var sb strings.Builder
	sb.WriteString("| figure (p50 / max) |")
	for _, f := range all {
		fmt.Fprintf(&sb, " %s |", f.system)
	}
	sb.WriteString("\n|---|" + strings.Repeat("---|", len(all)) + "\n")
	for _, n := range names {
		fmt.Fprintf(&sb, "| %s |", n)
		for _, f := range all {
			if p50, highest, ok := f.stats(n); ok {
				fmt.Fprintf(&sb, " %.2f / %.2f s |", p50.Seconds(), highest.Seconds())
			} else {
				sb.WriteString(" — |")
			}
		}
		sb.WriteString("\n")
	}
	sb.WriteString("| rows lost / samples with two writable |")
	for _, f := range all {
		fmt.Fprintf(&sb, " %d / %d |", f.lost, f.overlaps)
	}
	sb.WriteString("\n")
	return sb.String()
}
