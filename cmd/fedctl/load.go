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

	"github.com/fedstate/fedstate/federation/drill/load"
)

// loadOptions are the flags of fedctl load.
type loadOptions struct {
	cfg          load.Config
	namespace    string
	zone         string
	duration     time.Duration
	passwordFile string
	progress     time.Duration
	output       string
}

func newLoadCommand() *cobra.Command {
	o := &loadOptions{cfg: load.DefaultConfig()}
	o.cfg.CreateTable = true
	cmd := &cobra.Command{
		Use:   "load SERVICE [--rate N] [--reads N] [--duration D] [-o text|json]",
		Short: "Write numbered rows to a PostgreSQL service's primary and measure the downtime",
		Long: `Run client traffic against a PostgreSQL service of the federation, as an
application would see it during a switchover, a failover or a DR drill.

Every write resolves primary.<name>.<ns>.svc.<zone> at the federation's DNS
server (--dns-server, never the system resolver), keeps a session with the
address it names, and inserts one numbered row (run, id) into --table, --rate
times a second. A failed operation drops the session and resolves the name
again; an answer is never kept past its TTL nor more than a second, so the
writes follow a new primary within a second of DNS naming it. With --reads,
as many reads a second select the run's highest id on one of the addresses
of <name>.<ns>.svc.<zone> (any ready replica). The table is created if
missing.

Every operation is recorded: when it began and returned, its outcome (ok,
or the error kind: dns, connect, timeout, readonly for SQLSTATE 25006,
other), the server and the row id. The downtime is the longest time between
two acknowledged writes; the gaps longer than --gap-threshold are listed.

Progress goes to stderr every --progress-interval: time, writes acknowledged
and failed, the current primary's address and the p99 write latency. At the
end (--duration, or Ctrl-C) the summary goes to stdout: writes, errors by
kind, latency, downtime and gaps; -o json prints it as a stable document
(fields are added, never renamed): namespace, service, primaryName,
dnsServer, table, run, start, end, durationSeconds, writes, reads,
downtimeSeconds, gaps, lastPrimary, lastID. fedctl load exits 1 when no
write was acknowledged.

The rows of a run carry its id (shown at the start), so runs can share a
table: SELECT id FROM fedstate_load WHERE run = '<run>' lists what a server
holds. docs/drills.md describes what is recorded and how.`,
		Example: `  # 20 writes a second to demo/pg until Ctrl-C, DNS server of the README:
  fedctl load demo/pg

  # One minute at 50 writes and 10 reads a second, summary as JSON:
  fedctl load pg -n demo --rate 50 --reads 10 --duration 1m -o json > load.json

  # Another DNS server and zone, an application role with a password:
  fedctl load prod/db --dns-server 10.0.0.53:53 --zone fedstate.example. \
      --user app --password-file app.password --database app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLoad(cmd, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.namespace, "namespace", "n", "default", "namespace of the service, unless SERVICE is NAMESPACE/NAME")
	f.StringVar(&o.cfg.DNSServer, "dns-server", defaultDNSServer(), "federation DNS server to resolve the service's names at, host:port ($FEDSTATE_DNS, else 127.0.0.1:5353)")
	f.StringVar(&o.zone, "zone", o.cfg.Zone, "federation DNS zone the names are in")
	f.Uint16Var(&o.cfg.Port, "port", o.cfg.Port, "PostgreSQL port of the service's replicas")
	f.Float64Var(&o.cfg.Rate, "rate", o.cfg.Rate, "writes a second, one INSERT each")
	f.Float64Var(&o.cfg.ReadRate, "reads", 0, "reads a second on any ready replica; 0 makes no reads")
	f.DurationVar(&o.duration, "duration", 0, "how long to run; 0 runs until Ctrl-C")
	f.StringVar(&o.cfg.Table, "table", o.cfg.Table, "table to write, created if missing (a plain SQL identifier)")
	f.StringVar(&o.cfg.User, "user", o.cfg.User, "PostgreSQL role to connect as")
	f.StringVar(&o.passwordFile, "password-file", "", "file holding the role's password; none sends no password (trust)")
	f.StringVar(&o.cfg.Database, "database", o.cfg.Database, "database to connect to")
	f.DurationVar(&o.cfg.OpTimeout, "op-timeout", o.cfg.OpTimeout, "longest wait for one write or read, resolution and connection included; slower counts as failed")
	f.DurationVar(&o.cfg.GapThreshold, "gap-threshold", 0, "list the gaps between acknowledged writes longer than this; 0 means ten write intervals (500ms at 20 a second)")
	f.DurationVar(&o.progress, "progress-interval", 5*time.Second, "time between two progress lines on stderr; 0 prints none")
	f.StringVarP(&o.output, "output", "o", "text", "summary format: text or json")
	return cmd
}

// runLoad checks the arguments, runs the generator until the duration
// passes or the command is interrupted, and prints the summary.
func runLoad(cmd *cobra.Command, o *loadOptions, arg string) error {
	cfg, err := o.config(arg)
	if err != nil {
		return err
	}
	g, err := load.New(cfg)
	if err != nil {
		return err
	}
	cfg = g.Config()
	ctx := cmd.Context()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Writing %g rows a second through %s (DNS %s) into table %s, run %s%s\n",
		cfg.Rate, cfg.PrimaryName(), cfg.DNSServer, cfg.Table, cfg.RunID, untilWhat(o.duration))

	done := make(chan struct{})
	go func() {
		defer close(done)
		printProgress(ctx, cmd.ErrOrStderr(), g, o.progress)
	}()
	err = g.Run(ctx)
	<-done
	if err != nil {
		return err
	}
	s := g.Snapshot()
	out, err := renderLoad(o.output, cfg, s)
	if err != nil {
		return err
	}
	if _, err := cmd.OutOrStdout().Write(out); err != nil {
		return err
	}
	if s.Writes.OK == 0 {
		return errors.New("no write was acknowledged")
	}
	return nil
}

// config turns the arguments into the generator's configuration; bad
// arguments come back as one invalidArguments error naming the flags.
func (o *loadOptions) config(arg string) (load.Config, error) {
	var bad []string
	// Validate does not repeat what is reported here.
	reported := map[string]bool{}
	cfg := o.cfg
	if key, err := serviceKey(arg, o.namespace); err != nil {
		bad, reported["SERVICE"] = append(bad, err.Error()), true
	} else {
		cfg.Namespace, cfg.Service = key.Namespace, key.Name
	}
	zone, err := canonicalZone(o.zone)
	if err != nil {
		bad, reported["--zone"] = append(bad, err.Error()), true
	}
	cfg.Zone = zone
	if o.output != "text" && o.output != formatJSON {
		bad = append(bad, fmt.Sprintf("-o %q: want text or json", o.output))
	}
	if o.duration < 0 {
		bad = append(bad, fmt.Sprintf("--duration %v: must not be negative", o.duration))
	}
	if o.progress < 0 {
		bad = append(bad, fmt.Sprintf("--progress-interval %v: must not be negative", o.progress))
	}
	if o.passwordFile != "" {
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			bad = append(bad, fmt.Sprintf("--password-file: %v", err))
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	bad = append(bad, configErrors(cfg.Validate(), reported)...)
	if err := invalidArguments(bad); err != nil {
		return load.Config{}, err
	}
	return cfg, nil
}

// loadFlags maps the fields load.Config.Validate names to the flags that
// set them.
var loadFlags = map[string]string{
	"dnsServer": "--dns-server", "zone": "--zone", "namespace": "SERVICE", "service": "SERVICE",
	"port": "--port", "rate": "--rate", "readRate": "--reads", "table": "--table", "user": "--user",
	"database": "--database", "opTimeout": "--op-timeout", "gapThreshold": "--gap-threshold",
}

// configErrors turns the errors of load.Config.Validate into lines that
// name the flags, leaving out those about the flags in skip.
func configErrors(err error, skip map[string]bool) []string {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		line := e.Error()
		field, rest, _ := strings.Cut(line, " ")
		name, colon := strings.CutSuffix(field, ":")
		if flag, ok := loadFlags[name]; ok {
			if skip[flag] {
				continue
			}
			if colon {
				flag += ":"
			}
			line = flag + " " + rest
		}
		lines = append(lines, line)
	}
	return lines
}

// untilWhat says when the run ends.
func untilWhat(d time.Duration) string {
	if d > 0 {
		return " for " + d.String()
	}
	return "; Ctrl-C to stop"
}

// printProgress writes a line every interval until ctx ends: time since
// the start, writes acknowledged and failed, the primary and the p99.
func printProgress(ctx context.Context, w io.Writer, g *load.Generator, interval time.Duration) {
	if interval <= 0 {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fmt.Fprintln(w, progressOf(g.Snapshot()))
		}
	}
}

// progressOf is one progress line.
func progressOf(s load.Snapshot) string {
	primary := "-"
	if s.Primary.IsValid() {
		primary = s.Primary.String()
	}
	return fmt.Sprintf("  %5.0fs  writes %d ok, %d failed  primary %s  p99 %s",
		s.End.Sub(s.Start).Seconds(), s.Writes.OK, s.Writes.Failed(), primary, millis(s.Writes.P99))
}

// millis writes d in milliseconds with one decimal: "4.2 ms".
func millis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
