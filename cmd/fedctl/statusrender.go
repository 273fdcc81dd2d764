package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// renderStatus prints fss in format (table, json or yaml): members give the
// regions of its clusters, zone (canonical, fully qualified) the DNS names
// and now the ages in the table.
func renderStatus(format string, fss *v1alpha1.FederatedStatefulSet, members []v1alpha1.MemberCluster, zone string, now time.Time) ([]byte, error) {
	r := buildReport(fss, members, zone)
	return render(format, r, func(w io.Writer) { writeTable(w, r, now) })
}

// writeTable lays the report out for people: a header, the replicas, the
// DNS names, then the latest failovers and requests when there are any.
func writeTable(w io.Writer, r *serviceReport, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Service:\t%s/%s\n", r.Namespace, r.Name)
	fmt.Fprintf(tw, "Replicas:\t%d desired, %d ready\n", r.DesiredReplicas, r.ReadyReplicas)
	fmt.Fprintf(tw, "Replication:\t%s\n", r.ReplicationMode)
	if p := r.Primary; p != nil {
		fmt.Fprintf(tw, "Primary:\t%s in %s (%s), epoch %d, since %s\n", p.Replica, p.Cluster, orDash(p.Region), p.Epoch, timeAndAge(p.Since, now))
	} else if r.ReplicationMode == v1alpha1.ReplicationPrimaryReplica {
		fmt.Fprintf(tw, "Primary:\tnone committed\n")
	}
	for _, c := range append(optional(r.FailingOver), r.UnhealthyConditions...) {
		fmt.Fprintf(tw, "%s:\t%s %s: %s (for %s)\n", c.Type, c.Status, c.Reason, c.Message, age(c.Since, now))
	}
	tw.Flush()

	fmt.Fprintln(w)
	fmt.Fprintln(tw, "REPLICA\tREGION\tCLUSTER\tROLE\tREADY\tPOD IP\tLAG\tDNS NAME")
	for _, x := range r.Replicas {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Name, orDash(x.Region), orDash(x.Cluster), orDash(string(x.Role)),
			yesNo(x.Ready), orDash(x.PodIP), bytesOrDash(x.LagBytes), x.DNSName)
	}
	tw.Flush()

	fmt.Fprintln(w)
	if r.DNS.Published {
		fmt.Fprintf(w, "DNS names (zone %s):\n", r.DNS.Zone)
	} else {
		fmt.Fprintf(w, "DNS names (zone %s; not published: spec.dns.enabled is false):\n", r.DNS.Zone)
	}
	fmt.Fprintf(tw, "  ready replicas\t%s\n", r.DNS.Service)
	if r.DNS.Primary != "" {
		fmt.Fprintf(tw, "  primary\t%s\n", r.DNS.Primary)
	}
	for _, s := range r.DNS.SRV {
		fmt.Fprintf(tw, "  SRV %s/%s (%d)\t%s\n", s.PortName, s.Protocol, s.Port, s.Name)
		if s.Primary != "" {
			fmt.Fprintf(tw, "  SRV %s/%s primary\t%s\n", s.PortName, s.Protocol, s.Primary)
		}
	}
	tw.Flush()

	if len(r.Failovers) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failovers (newest first):")
		fmt.Fprintln(tw, "  TIME\tREASON\tFROM\tTO\tEPOCH\tRTO\tDATA LOSS")
		for _, f := range r.Failovers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.Time.Format(time.RFC3339), f.Reason, orDash(f.From), f.To,
				f.Epoch, orDash(f.RTO), lossOf(f))
		}
		tw.Flush()
	}
	if len(r.Requests) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Requests:")
		fmt.Fprintln(tw, "  KIND\tID\tPHASE\tEPOCH\tTIME\tMESSAGE")
		for _, q := range r.Requests {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", q.Kind, q.ID, q.Phase, q.Epoch, q.Time.Format(time.RFC3339), q.Message)
		}
		tw.Flush()
	}
}

// humanBytes writes n bytes in binary units with one decimal: "0 B",
// "512 B", "12.3 KiB".
func humanBytes(n int64) string {
	if n > -1024 && n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	// 1023.95 rounds to 1024.0 at one decimal: move to the next unit.
	for i+1 < len(units) && (v >= 1023.95 || v <= -1023.95) {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// bytesOrDash writes an optional byte count; "-" when unknown.
func bytesOrDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return humanBytes(*n)
}

// lossOf writes a failover's data loss: the estimate, or once the old
// primary returned, what was measured on it with the estimate beside; and
// whether an operator accepted losing data.
func lossOf(f failoverReport) string {
	accepted := ""
	if f.AcceptedDataLoss {
		accepted = "accepted"
	}
	if f.MeasuredLossBytes == nil || f.LostTransactions == nil {
		if accepted != "" {
			accepted = " (" + accepted + ")"
		}
		return bytesOrDash(f.DataLossBytes) + accepted
	}
	if accepted != "" {
		accepted = ", " + accepted
	}
	return fmt.Sprintf("%s, %d transactions measured (estimate %s%s)",
		humanBytes(*f.MeasuredLossBytes), *f.LostTransactions, bytesOrDash(f.DataLossBytes), accepted)
}

// timeAndAge writes a time in UTC and how long ago it was; "unknown" for
// none.
func timeAndAge(t *time.Time, now time.Time) string {
	if t == nil {
		return "unknown"
	}
	return t.Format(time.RFC3339) + " (" + age(*t, now) + " ago)"
}

// age is how long before now t was, in kubectl's short form ("5m", "2d3h").
func age(t, now time.Time) string {
	return duration.HumanDuration(now.Sub(t))
}

// optional is c as a list of zero or one element.
func optional(c *conditionReport) []conditionReport {
	if c == nil {
		return nil
	}
	return []conditionReport{*c}
}

// orDash is s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// yesNo writes a boolean for the table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
