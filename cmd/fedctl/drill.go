package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// drillPoll is how often fedctl drill run reads the drill while it
// follows it: the steps take seconds, a line half a second late is fine.
const drillPoll = 500 * time.Millisecond

// drillOptions are the flags of fedctl drill run and report.
type drillOptions struct {
	service   serviceFlags
	output    string
	svc       string
	kind      string
	region    string
	holdFor   time.Duration
	maxRTO    time.Duration
	loadRate  int32
	dnsServer string
	wait      bool
	timeout   time.Duration
}

func newDrillCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill run|report NAME",
		Short: "Run a failover drill and read its report",
		Long: `Rehearse losing a region of a service with a FailoverDrill (docs/drills.md):
"fedctl drill run" creates one and follows it to its verdict, "fedctl drill
report" prints what its last run measured.`,
		Example: `  fedctl drill run to-us -n prod --service db --kind Switchover --target-region us-east
  fedctl drill report to-us -n prod`,
	}
	cmd.AddCommand(newDrillRunCommand(), newDrillReportCommand())
	return cmd
}

func newDrillRunCommand() *cobra.Command {
	o := &drillOptions{}
	cmd := &cobra.Command{
		Use:   "run NAME --service SVC --kind Switchover|RegionOutage|Failback [flags]",
		Short: "Create a FailoverDrill, follow it and print its report",
		Long: `Create the FailoverDrill NAME in the namespace -n and follow it until its
run is over, then print its report (as fedctl drill report). The hub's drill
controller runs it: it needs fedstate hub with failover on.

  --service SVC         the FederatedStatefulSet to drill, in PrimaryReplica
                        mode, in the same namespace (required to create)
  --kind KIND           Switchover: move the primary to --target-region, hold,
                        move it back. RegionOutage: treat --target-region
                        (default: the primary's) as lost: taint its clusters,
                        move the primary out, hold, restore. Failback: move the
                        primary to --target-region once
  --target-region R     the region; required for Switchover and Failback
  --hold-for D          how long the primary stays moved (default 30s)
  --max-rto D           abort when a switchover takes longer, fail when the
                        measured RTO is longer (default: no limit)
  --load-rate N         client writes a second during the drill (default 20;
                        0 sends none)
  --dns-server ADDR     the federation DNS server the writes resolve the
                        primary at, host:port (default 127.0.0.1:5353)
  --wait                follow the drill to its end (default); --wait=false
                        returns once it is created
  --timeout D           how long to follow it (default 10m); the drill goes on
                        past it
  -o FORMAT             the report's format: table, json or yaml

While it follows the drill, fedctl prints one line on stderr each time its
phase or step changes, with the hub's message. The exit code is 0 only
when the verdict is Passed.

A drill without a schedule runs once. The API has no way to run a
finished drill again: for an existing NAME, fedctl follows it while it is
pending or running and otherwise stops, saying so; delete it (kubectl delete
failoverdrill NAME -n NAMESPACE) and run fedctl drill run again, or use
another NAME. Run with NAME alone, it follows an existing drill.`,
		Example: `  # Move the primary of prod/db to us-east for a minute and back, under 50 writes a second:
  fedctl drill run to-us -n prod --service db --kind Switchover --target-region us-east \
      --hold-for 1m --load-rate 50 --dns-server 127.0.0.1:5353

  # Lose the primary's region; abort when a switchover takes over 10 s:
  fedctl drill run lose-primary-region -n prod --service db --kind RegionOutage --max-rto 10s

  # Create it and return; follow it later:
  fedctl drill run back-to-eu -n prod --service db --kind Failback --target-region eu-west --wait=false
  fedctl drill run back-to-eu -n prod`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDrill(cmd, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.svc, "service", "", "FederatedStatefulSet to drill, in the drill's namespace; e.g. --service db")
	f.StringVar(&o.kind, "kind", "", "kind of drill: Switchover, RegionOutage or Failback; e.g. --kind RegionOutage")
	f.StringVar(&o.region, "target-region", "", "region the primary moves to, or the region lost (RegionOutage); e.g. --target-region us-east")
	f.DurationVar(&o.holdFor, "hold-for", 0, "how long the primary stays moved before the failback (hub default 30s); e.g. --hold-for 1m")
	f.DurationVar(&o.maxRTO, "max-rto", 0, "abort or fail the drill when a switchover takes longer (default no limit); e.g. --max-rto 10s")
	f.Int32Var(&o.loadRate, "load-rate", -1, "client writes a second during the drill, 0 for none (hub default 20); e.g. --load-rate 50")
	f.StringVar(&o.dnsServer, "dns-server", os.Getenv("FEDSTATE_DNS"), "federation DNS server the hub's writes resolve the primary at ($FEDSTATE_DNS, else the hub's default 127.0.0.1:5353); e.g. --dns-server 127.0.0.1:5353")
	f.BoolVar(&o.wait, "wait", true, "follow the drill to its end; --wait=false returns once it is created")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long to follow the drill; it goes on past it; e.g. --timeout 5m")
	f.StringVarP(&o.output, "output", "o", formatTable, "report format: table, json or yaml; e.g. -o json")
	o.service.add(cmd)
	return cmd
}

func newDrillReportCommand() *cobra.Command {
	o := &drillOptions{}
	cmd := &cobra.Command{
		Use:   "report NAME [-o table|json|yaml]",
		Short: "Print the report of a drill's last run",
		Long: `Print what the last run of the FailoverDrill NAME measured, from its
status:

  - the drill (service, kind, target region, schedule), the run's number,
    phase and step, the replica that was primary, start and end;
  - the phases with their start and duration: Detect, Fence, Promote,
    DNSPublished, FirstClientSuccess, Hold, Failback (docs/drills.md);
  - RTO (the first switchover's request to the first write the new
    primary acknowledged), RPO in bytes of log and in acknowledged
    transactions missing, failed writes, the longest downtime;
  - the verdict and its reason;
  - the switchovers the run requested and the coordinator's answers;
  - the past runs, from the drill's finishing events (DrillSucceeded,
    DrillFailed, DrillAborted, DrillInvalid) that the hub still keeps;
  - the report files in status.reportPath on the hub: summary.txt, printed
    when it is readable on this machine, timeline.svg and timeline.png.

-o json and -o yaml print the same as a stable document (fields are added,
never renamed or removed), with durations in Go syntax and times in RFC
3339, UTC.`,
		Example: `  # The last run of drill to-us in prod:
  fedctl drill report to-us -n prod

  # Its RTO, for a script:
  fedctl drill report prod/to-us -o json | jq -r .rto`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.output); err != nil {
				return invalidArguments([]string{err.Error()})
			}
			hub, key, err := o.service.connect(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), statusTimeout)
			defer cancel()
			d, err := getDrill(ctx, hub, key)
			if err != nil {
				return err
			}
			return printDrillReport(ctx, cmd, hub, d, o.output)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", formatTable, "output format: table, json or yaml; e.g. -o yaml")
	o.service.add(cmd)
	return cmd
}

// runDrill creates the drill, or finds it, follows it and prints its
// report. A verdict other than Passed is an error.
func runDrill(cmd *cobra.Command, o *drillOptions, arg string) error {
	var bad []string
	if err := checkFormat(o.output); err != nil {
		bad = append(bad, err.Error())
	}
	creating := o.svc != "" || o.kind != ""
	if creating {
		bad = append(bad, o.specErrors()...)
	}
	if err := invalidArguments(bad); err != nil {
		return err
	}
	hub, key, err := o.service.connect(arg)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	d, err := getDrill(cctx, hub, key)
	switch {
	case err == nil:
		if done(d) || creating {
			return existsError(d, creating)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "FailoverDrill %s exists (%s); following it\n", key, orDash(string(d.Status.Phase)))
	case !errors.Is(err, errNoDrill):
		return err
	case !creating:
		return invalidArguments([]string{fmt.Sprintf("no FailoverDrill %s: pass --service and --kind to create it", key)})
	default:
		d = o.drill(key)
		if err := hub.Create(cctx, d); err != nil {
			return fmt.Errorf("create FailoverDrill %s: %w", key, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Created FailoverDrill %s: %s of %s\n", key, d.Spec.Kind, d.Spec.Service)
	}
	if !o.wait {
		fmt.Fprintf(cmd.OutOrStdout(), "FailoverDrill %s created; follow it with: fedctl drill run %s -n %s\n", key, key.Name, key.Namespace)
		return nil
	}
	wctx, wcancel := context.WithTimeout(ctx, o.timeout)
	defer wcancel()
	d, err = followDrill(wctx, hub, key, cmd.ErrOrStderr())
	if err != nil {
		return fmt.Errorf("FailoverDrill %s: %w; it goes on: fedctl drill report %s -n %s", key, err, key.Name, key.Namespace)
	}
	if err := printDrillReport(ctx, cmd, hub, d, o.output); err != nil {
		return err
	}
	if d.Status.Verdict != v1alpha1.VerdictPassed {
		return fmt.Errorf("drill %s: verdict %s: %s", key, orDash(string(d.Status.Verdict)), d.Status.Reason)
	}
	return nil
}

// specErrors checks the flags that make the drill's spec.
func (o *drillOptions) specErrors() []string {
	var bad []string
	if o.svc == "" {
		bad = append(bad, "--service: required to create a drill")
	}
	switch v1alpha1.DrillKind(o.kind) {
	case v1alpha1.DrillSwitchover, v1alpha1.DrillFailback:
		if o.region == "" {
			bad = append(bad, fmt.Sprintf("--target-region: required for kind %s", o.kind))
		}
	case v1alpha1.DrillRegionOutage:
	default:
		bad = append(bad, fmt.Sprintf("--kind %q: want Switchover, RegionOutage or Failback", o.kind))
	}
	if o.holdFor < 0 || o.maxRTO < 0 {
		bad = append(bad, "--hold-for and --max-rto: want positive durations")
	}
	if o.loadRate < -1 || o.loadRate > 1000 {
		bad = append(bad, fmt.Sprintf("--load-rate %d: want 0 to 1000", o.loadRate))
	}
	return bad
}

// drill is the FailoverDrill the flags describe; unset flags leave the
// hub's defaults.
func (o *drillOptions) drill(key client.ObjectKey) *v1alpha1.FailoverDrill {
	d := &v1alpha1.FailoverDrill{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
		Spec: v1alpha1.FailoverDrillSpec{Service: o.svc, Kind: v1alpha1.DrillKind(o.kind), TargetRegion: o.region,
			Load: v1alpha1.DrillLoad{DNSServer: o.dnsServer}},
	}
	if o.holdFor > 0 {
		d.Spec.HoldFor = &metav1.Duration{Duration: o.holdFor}
	}
	if o.maxRTO > 0 {
		d.Spec.Abort.MaxRTO = &metav1.Duration{Duration: o.maxRTO}
	}
	if o.loadRate >= 0 {
		d.Spec.Load.Rate = ptr.To(o.loadRate)
	}
	return d
}

// existsError says that the drill exists and how to run it again.
func existsError(d *v1alpha1.FailoverDrill, creating bool) error {
	state := fmt.Sprintf("run %d, %s", d.Status.Runs, orDash(string(d.Status.Phase)))
	if d.Status.Verdict != "" && done(d) {
		state += ", verdict " + string(d.Status.Verdict)
	}
	how := fmt.Sprintf("to run it again, delete it (kubectl delete failoverdrill %s -n %s) and run fedctl drill run again, or use another NAME",
		d.Name, d.Namespace)
	if d.Spec.Schedule != "" {
		how = fmt.Sprintf("it runs again on its schedule %q; %s", d.Spec.Schedule, how)
	}
	if creating && !done(d) {
		how = fmt.Sprintf("it is under way: follow it with fedctl drill run %s -n %s (without --service and --kind)", d.Name, d.Namespace)
	}
	return fmt.Errorf("FailoverDrill %s/%s exists (%s) and a drill cannot be started again through the API: %s; its last run: fedctl drill report %s -n %s",
		d.Namespace, d.Name, state, how, d.Name, d.Namespace)
}

// done reports whether the drill's current run is over.
func done(d *v1alpha1.FailoverDrill) bool {
	return d.Status.Step == v1alpha1.DrillStepDone && d.Status.Phase != v1alpha1.DrillRunning && d.Status.Phase != v1alpha1.DrillPending
}

// errNoDrill is returned by getDrill for a drill that does not exist.
var errNoDrill = errors.New("fedctl: no such FailoverDrill")

// getDrill reads the FailoverDrill key.
func getDrill(ctx context.Context, hub client.Reader, key client.ObjectKey) (*v1alpha1.FailoverDrill, error) {
	var d v1alpha1.FailoverDrill
	if err := hub.Get(ctx, key, &d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: %s", errNoDrill, key)
		}
		return nil, fmt.Errorf("get FailoverDrill %s: %w", key, err)
	}
	return &d, nil
}

// followDrill polls the drill until its run is over, writing a line to
// progress each time its phase, step or Progressing reason changes.
func followDrill(ctx context.Context, hub client.Reader, key client.ObjectKey, progress io.Writer) (*v1alpha1.FailoverDrill, error) {
	var last string
	tick := time.NewTicker(drillPoll)
	defer tick.Stop()
	for {
		d, err := getDrill(ctx, hub, key)
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if d != nil {
			if line := drillProgress(d); line != last {
				fmt.Fprintf(progress, "%s  %s\n", time.Now().UTC().Format(time.TimeOnly), line)
				last = line
			}
			if done(d) {
				return d, nil
			}
		}
		select {
		case <-ctx.Done():
			if d == nil || d.Status.Phase == "" {
				return nil, errors.New("the hub has not picked the drill up; is fedstate hub running with failover on?")
			}
			return nil, fmt.Errorf("not over: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// drillProgress describes where a drill stands: phase, step and the
// Progressing condition's reason and message.
func drillProgress(d *v1alpha1.FailoverDrill) string {
	line := orDash(string(d.Status.Phase))
	if d.Status.Step != "" {
		line += " step " + string(d.Status.Step)
	}
	if c := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.DrillProgressing); c != nil {
		line += fmt.Sprintf(": %s: %s", c.Reason, c.Message)
	} else if d.Status.Phase == "" {
		line = "waiting for the hub"
	}
	return line
}

// printDrillReport reads the drill's events and report file and prints
// its report.
func printDrillReport(ctx context.Context, cmd *cobra.Command, hub client.Reader, d *v1alpha1.FailoverDrill, format string) error {
	var events eventsv1.EventList
	if err := hub.List(ctx, &events, client.InNamespace(d.Namespace)); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Past runs unknown: list events: %v\n", err)
	}
	var summary string
	if p := d.Status.ReportPath; p != "" {
		if b, err := os.ReadFile(strings.TrimSuffix(p, "/") + "/summary.txt"); err == nil {
			summary = string(b)
		}
	}
	return write(cmd, func() ([]byte, error) { return renderDrillReport(format, d, events.Items, summary) })
}
