// Package report turns what a DR drill recorded into its report: a
// timeline picture (SVG and PNG, drawn with gonum.org/v1/plot) and a
// plain-text summary.
//
// Data holds the drill's phases with their start and end (detect, fence,
// promote, DNS published, first client success, ...), the failover
// instant, the client traffic (a load.Snapshot), the replication lag of
// each replica over time, the verdict and the data lost (RPO).
//
// WriteSVG and WritePNG draw three panels over one time axis, seconds from
// the drill's start: the phases as horizontal bars labelled with their
// durations; acknowledged and failed writes per second; and the lag of
// each replica in bytes. A dashed vertical line marks the failover
// instant on every panel. Summary writes the figures: the verdict, each
// phase's start, end and duration, the RTO (first phase's start to last
// phase's end), the clients' writes, errors by kind, latency, downtime and
// gaps, the RPO in bytes and transactions, the acknowledged writes found
// missing, and each replica's peak lag.
//
//	f, _ := os.Create("drill.svg")
//	err := report.WriteSVG(f, data, report.DefaultSize())
//	fmt.Print(report.Summary(data))
//
// testdata/timeline.png is the picture of the tests' region-outage drill.
// Drawing and summarising are pure: the same Data gives the same bytes.
package report
