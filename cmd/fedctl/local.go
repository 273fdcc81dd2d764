package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/e2e/testbed"
)

// localOptions are the flags shared by the local subcommands.
type localOptions struct {
	dir      string
	members  []string
	leaseTTL time.Duration
	output   string
}

func newLocalCommand() *cobra.Command {
	o := &localOptions{}
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run a whole fedstate federation on this machine: clusters, etcd, hub, agents, DNS",
		Long: `The local federation runs every part of fedstate on this machine, on
loopback addresses, without containers: the test bed's hub and member
clusters (real kube-apiservers, kwok for the pods; "fedctl testbed"), a
federation etcd, the hub ("fedstate hub"), a DNS server per region
("fedstate dns") and an agent per member ("fedstate agent") that runs a real
PostgreSQL 15 server for every PostgreSQL replica kwok reports Running.

It is meant for trying fedstate and for development: the parts talk in
plaintext over loopback (--insecure-local, docs/security.md), which nothing
else should do. The first "up" builds Kubernetes, etcd and kwok from the Go
module proxy (~8 minutes on two cores); later ones start in about a minute.
The processes keep running after fedctl exits; "fedctl local down" stops
them.`,
		Example: `  fedctl local up                      # build what is missing, start three regions
  eval "$(fedctl local env)"           # KUBECONFIG of the hub, FEDSTATE_DNS, kubectl on PATH
  fedctl local status                  # every part, its address and whether it answers
  fedctl local stop us-1               # lose a region for real: SIGKILL its API server, agent, PostgreSQL
  fedctl local start us-1              # bring it back on the same data
  fedctl local down                    # stop everything and remove the data`,
	}
	cmd.PersistentFlags().StringVar(&o.dir, "dir", defaultLocalDir(),
		"folder of the local federation: clusters, etcd data, logs, drill reports ($FEDSTATE_LOCAL_DIR); the postgres user must be able to enter it")
	cmd.AddCommand(newLocalUpCommand(o), newLocalDownCommand(o), newLocalStatusCommand(o), newLocalEnvCommand(o),
		newLocalStopCommand(o), newLocalStartCommand(o))
	return cmd
}

// defaultLocalDir is $FEDSTATE_LOCAL_DIR, else /var/tmp/fedstate-local: a
// folder the postgres user can enter, which a home folder often is not.
func defaultLocalDir() string {
	if d := os.Getenv("FEDSTATE_LOCAL_DIR"); d != "" {
		return d
	}
	return "/var/tmp/fedstate-local"
}

func newLocalUpCommand(o *localOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Build what is missing, start the local federation and return once every member is Ready",
		Long: `Start the local federation in --dir and return once the hub reports every
member cluster Ready. Progress goes to stderr; what runs where, and what to
try next, to stdout.

Members are given as NAME=REGION/ZONE; the default is eu-1 (eu-west),
us-1 (us-east) and ap-1 (ap-south). --lease-ttl sets the primaries' lease:
a primary whose region is lost is replaced after about that long; it must
be at least 2s.`,
		Example: `  fedctl local up
  fedctl local up --lease-ttl 2s
  fedctl local up --dir /var/tmp/fed2 --member a=eu/eu-a --member b=us/us-a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			members, err := parseMembers(o.members)
			if err != nil {
				return err
			}
			if o.leaseTTL != 0 && o.leaseTTL < 2*time.Second {
				return fmt.Errorf("--lease-ttl %s: want at least 2s", o.leaseTTL)
			}
			dir, err := filepath.Abs(o.dir)
			if err != nil {
				return err
			}
			if _, _, err := localfed.Attach(dir); err == nil {
				return fmt.Errorf("a local federation already runs in %s: see \"fedctl local status\", stop it with \"fedctl local down\"", dir)
			} else if !errors.Is(err, localfed.ErrNotRunning) {
				return fmt.Errorf("%s holds a local federation that cannot be read (%w): remove the folder or pick another --dir", dir, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "bed")); err == nil {
				return fmt.Errorf("%s holds the remains of a federation that did not start: remove the folder or pick another --dir", dir)
			}
			progress := cmd.ErrOrStderr()
			fmt.Fprintf(progress, "local: starting a federation of %d members in %s\n", len(members), dir)
			start := time.Now()
			fed, err := localfed.Start(cmd.Context(), localfed.Options{
				Dir: dir, Members: members, LeaseTTL: o.leaseTTL, Progress: progress, Detach: true,
			})
			if err != nil {
				return err
			}
			_, s, err := localfed.Attach(dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Local federation up in %s: %d member clusters, a federation etcd, the hub, %d DNS servers and %d agents.\n\n",
				time.Since(start).Round(time.Second), len(members), len(s.DNS), len(members))
			printClusters(out, fed.Bed)
			fmt.Fprintln(out)
			printParts(out, fed, s)
			dirFlag := ""
			if dir != defaultLocalDir() {
				dirFlag = " --dir " + shellQuote(dir)
			}
			fmt.Fprintf(out, `
Try:
  eval "$(fedctl local env%[1]s)"      # KUBECONFIG of the hub, FEDSTATE_DNS, kubectl on PATH
  kubectl create namespace demo
  kubectl apply -f config/samples/postgres.yaml
  fedctl status demo/pg           # where the replicas run, the primary, the DNS names
  fedctl dig primary.pg.demo.svc  # what the DNS of %[2]s answers
Stop: fedctl local down%[1]s
`, dirFlag, members[0].Region)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&o.members, "member", nil, "a member cluster as NAME=REGION/ZONE (repeatable; default eu-1, us-1, ap-1)")
	cmd.Flags().DurationVar(&o.leaseTTL, "lease-ttl", 0, "primaries' lease TTL, at least 2s (default the agents' 5s)")
	return cmd
}

// printParts lists the federation's own processes: etcd, hub, DNS servers
// and agents, with their addresses and logs.
func printParts(out io.Writer, fed *localfed.Federation, s localfed.State) {
	logs := map[string]string{}
	for _, c := range fed.Bed.Clusters() {
		for _, p := range c.Extra {
			logs[p.Name] = p.Log
		}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PART\tADDRESS\tLOG")
	for i, u := range s.EtcdURLs {
		fmt.Fprintf(tw, "federation etcd\t%s\t%s\n", u, logs[testbed.HubName+"/"+localfed.EtcdProcess(i)])
	}
	fmt.Fprintf(tw, "hub\t-\t%s\n", logs[testbed.HubName+"/"+localfed.HubProcess])
	for i, m := range s.Members {
		fmt.Fprintf(tw, "dns %s\t%s\t%s\n", m.Region, s.DNS[i], logs[testbed.HubName+"/"+localfed.DNSProcess(m.Name)])
	}
	for _, m := range s.Members {
		fmt.Fprintf(tw, "agent %s\t-\t%s\n", m.Name, logs[m.Name+"/"+localfed.AgentProcess])
	}
	fmt.Fprintf(tw, "drill reports\t-\t%s\n", s.DrillReportDir)
	tw.Flush()
}

func newLocalDownCommand(o *localOptions) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every process of the local federation and remove its folder",
		Long: `Stop every process the local federation started (hub, DNS servers,
agents, PostgreSQL servers, the federation etcd, the clusters) and remove
its folder; --keep-reports keeps the drill reports.`,
		Example: `  fedctl local down
  fedctl local down --keep-reports`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := filepath.Abs(o.dir)
			if err != nil {
				return err
			}
			fed, s, err := localfed.Attach(dir)
			if err != nil {
				return err
			}
			n := len(fed.Bed.PIDs())
			if err := fed.Close(); err != nil {
				return err
			}
			if err := localfed.Forget(dir); err != nil {
				return err
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				return err
			}
			for _, e := range entries {
				path := filepath.Join(dir, e.Name())
				if keep && path == s.DrillReportDir {
					continue
				}
				if err := os.RemoveAll(path); err != nil {
					return err
				}
			}
			kept := ""
			if keep {
				kept = "; kept the drill reports in " + s.DrillReportDir
			} else if err := os.Remove(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Local federation down: stopped %d processes and their PostgreSQL servers, removed %s%s.\n", n, dir, kept)
			return nil
		},
	}
	cmd.Flags().BoolVar(&keep, "keep-reports", false, "keep the drill reports (the drills folder) and remove the rest")
	return cmd
}

func newLocalEnvCommand(o *localOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "Print shell lines that point kubectl and fedctl at the local federation",
		Long: `Print export lines for a POSIX shell: KUBECONFIG (the hub's admin
kubeconfig, which fedctl and kubectl use), FEDSTATE_DNS (the DNS server of
the first member's region, which "fedctl dig" asks) and PATH with the test
bed's kubectl in front.`,
		Example: `  eval "$(fedctl local env)"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fed, s, err := localfed.Attach(o.dir)
			if err != nil {
				return err
			}
			hub, err := fed.Bed.Cluster(testbed.HubName)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "export KUBECONFIG=%s\n", shellQuote(hub.Kubeconfig))
			if len(s.DNS) > 0 {
				fmt.Fprintf(out, "export FEDSTATE_DNS=%s\n", shellQuote(s.DNS[0]))
			}
			if k := fed.Bed.Binaries().Kubectl; k != "" {
				fmt.Fprintf(out, "export PATH=%s:\"$PATH\"\n", shellQuote(filepath.Dir(k)))
			}
			return nil
		},
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newLocalStatusCommand(o *localOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [-o table|json|yaml]",
		Short: "Show every part of the local federation and whether it answers",
		Long: `Probe every part of the local federation once: each cluster's API server
(/readyz), the federation etcd (/health), each DNS server (the zone's SOA,
whose serial follows the etcd revision), the hub's view of the members
(Ready, AgentAlive) and the services; then list the processes with their
memory. Exit status 1 when a part does not answer.`,
		Example: `  fedctl local status
  fedctl local status -o json | jq '.dns[] | select(.serial == 0)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.output); err != nil {
				return err
			}
			fed, s, err := localfed.Attach(o.dir)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 20*time.Second)
			defer cancel()
			st := probeLocal(ctx, fed, s)
			b, err := renderLocalStatus(o.output, st, time.Now())
			if err != nil {
				return err
			}
			if _, err := cmd.OutOrStdout().Write(b); err != nil {
				return err
			}
			if !st.Healthy() {
				return errors.New("some parts of the local federation do not answer")
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", formatTable, "output format: table, json or yaml")
	return cmd
}

func newLocalStopCommand(o *localOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "stop CLUSTER",
		Short: "Kill a member cluster's region: its API server, controllers, agent and PostgreSQL servers",
		Long: `Kill every process of member CLUSTER with SIGKILL, as in the outage of its
whole region: its API server and controllers, its fedstate agent and the
PostgreSQL servers of its replicas. The cluster's objects and volumes stay.
A primary there loses its lease one lease TTL after the agent's last renewal
(--lease-ttl of "fedctl local up", default 5s) and the hub promotes the best
replica elsewhere; "fedctl status" shows the failover and its RTO. Its DNS
server keeps running: it is a process of the hub cluster.`,
		Example: `  fedctl local stop eu-1
  fedctl status demo/pg            # the failover, once the lease expired
  fedctl local start eu-1          # the old primary rejoins as a standby`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fed, _, err := localfed.Attach(o.dir)
			if err != nil {
				return err
			}
			if args[0] == testbed.HubName {
				return errors.New("the hub cluster runs the hub, the federation etcd and the DNS servers: stop a member cluster")
			}
			if err := fed.Bed.StopCluster(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Killed %s: its API server, controllers, agent and PostgreSQL servers.\n", args[0])
			return nil
		},
	}
}

func newLocalStartCommand(o *localOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "start CLUSTER",
		Short:   "Start a stopped member cluster again, with its agent, on the same data",
		Example: "  fedctl local start eu-1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fed, _, err := localfed.Attach(o.dir)
			if err != nil {
				return err
			}
			start := time.Now()
			if err := fed.Bed.StartCluster(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Started %s and its agent; ready after %s. Its replicas rejoin as the agent brings their servers back.\n",
				args[0], time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}
