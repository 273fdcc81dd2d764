package failover

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// figures are the durations and the amounts measured over the failovers
// and switchovers of one system, by figure name, in the order the names
// were first added, with the rows lost where none may be and the samples
// that found two writable servers.
type figures struct {
	system string
	order  []string
	vals   map[string][]time.Duration
	// amountOrder and amounts are the counted figures, such as the rows an
	// asynchronous failover lost.
	amountOrder []string
	amounts     map[string][]int64
	// lost counts acknowledged rows missing after a synchronous failover
	// or a switchover.
	lost int
	// overlaps counts samples that found two writable servers.
	overlaps int
}

func newFigures(system string) *figures {
	return &figures{system: system, vals: map[string][]time.Duration{}, amounts: map[string][]int64{}}
}

// add records one value of the named figure.
func (f *figures) add(name string, d time.Duration) {
	if _, ok := f.vals[name]; !ok {
		f.order = append(f.order, name)
	}
	f.vals[name] = append(f.vals[name], d)
}

// count records one value of the named amount.
func (f *figures) count(name string, n int64) {
	if _, ok := f.amounts[name]; !ok {
		f.amountOrder = append(f.amountOrder, name)
	}
	f.amounts[name] = append(f.amounts[name], n)
}

// amountStats is stats for the named amount.
func (f *figures) amountStats(name string) (p50, highest int64, ok bool) {
	return medianMax(f.amounts[name])
}

// stats returns the median (the lower one of an even count) and the
// maximum of the named figure; ok is false when it has no value.
func (f *figures) stats(name string) (p50, highest time.Duration, ok bool) {
	return medianMax(f.vals[name])
}

// medianMax returns the median (the lower one of an even count) and the
// maximum of vs; ok is false when vs is empty.
func medianMax[T cmp.Ordered](vs []T) (p50, highest T, ok bool) {
	if len(vs) == 0 {
		return p50, highest, false
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return vs[(len(vs)-1)/2], vs[len(vs)-1], true
}

// report hands the figures to the benchmark framework, as
// <figure>-p50-s and <figure>-max-s, <amount>-p50 and <amount>-max,
// rows-lost and two-writable.
func (f *figures) report(b *testing.B) {
	b.ReportMetric(0, "ns/op")
	for _, n := range f.order {
		p50, highest, _ := f.stats(n)
		b.ReportMetric(p50.Seconds(), n+"-p50-s")
		b.ReportMetric(highest.Seconds(), n+"-max-s")
	}
	for _, n := range f.amountOrder {
		p50, highest, _ := f.amountStats(n)
		b.ReportMetric(float64(p50), n+"-p50")
		b.ReportMetric(float64(highest), n+"-max")
	}
	b.ReportMetric(float64(f.lost), "rows-lost")
	b.ReportMetric(float64(f.overlaps), "two-writable")
}

// done reports the figures and logs their summary.
func (f *figures) done(b *testing.B) {
	f.report(b)
	b.Log(f.summary())
}

// summary is one line: every figure's p50 and max, rows lost, overlaps.
func (f *figures) summary() string {
	if len(f.order) == 0 {
		return f.system + ": nothing measured"
	}
	var parts []string
	for _, n := range f.order {
		p50, highest, _ := f.stats(n)
		parts = append(parts, fmt.Sprintf("%s p50 %s max %s", n, seconds(p50), seconds(highest)))
	}
	for _, n := range f.amountOrder {
		p50, highest, _ := f.amountStats(n)
		parts = append(parts, fmt.Sprintf("%s p50 %d max %d", n, p50, highest))
	}
	return fmt.Sprintf("%s: %s; %d rows lost where none may be; %d samples with two writable servers",
		f.system, strings.Join(parts, ", "), f.lost, f.overlaps)
}

// seconds prints d in seconds with two decimals.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// table prints the figures of several systems side by side: one row per
// figure name, p50 / max per system, "—" where a system lacks it, the
// amounts after the durations.
func table(all []*figures) string {
	var names, amounts []string
	for _, f := range all {
		for _, n := range f.order {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		for _, n := range f.amountOrder {
			if !slices.Contains(amounts, n) {
				amounts = append(amounts, n)
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
	for _, n := range amounts {
		fmt.Fprintf(&sb, "| %s |", n)
		for _, f := range all {
			if p50, highest, ok := f.amountStats(n); ok {
				fmt.Fprintf(&sb, " %d / %d |", p50, highest)
			} else {
				sb.WriteString(" — |")
			}
		}
		sb.WriteString("\n")
	}
	sb.WriteString("| rows lost (sync failovers, switchovers) / samples with two writable |")
	for _, f := range all {
		fmt.Fprintf(&sb, " %d / %d |", f.lost, f.overlaps)
	}
	sb.WriteString("\n")
	return sb.String()
}
