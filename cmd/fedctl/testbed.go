package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fedstate/fedstate/e2e/testbed"
)

// testbedOptions are the flags shared by the testbed subcommands.
type testbedOptions struct {
	cacheDir string
	stateDir string
	members  []string
	timeout  time.Duration
}

func newTestbedCommand() *cobra.Command {
	o := &testbedOptions{}
	cmd := &cobra.Command{
		Use:   "testbed",
		Short: "Run a real local federation: etcd, a hub and member clusters on loopback",
		Long: `The test bed runs real Kubernetes control planes on this machine: one etcd,
a hub kube-apiserver with a controller-manager, and member clusters (each a
kube-apiserver, controller-manager, scheduler and kwok with fake nodes
labelled with their region and zone, a default StorageClass and hostPath
volumes). Everything listens on 127.0.0.1 and pods get loopback IPs.

The binaries (Kubernetes ` + testbed.KubernetesVersion + `, etcd ` + testbed.EtcdVersion + `, kwok ` + testbed.KwokVersion + `) are built
from the Go module proxy into the cache folder the first time (~6-8 minutes
on two cores) and reused afterwards.`,
		Example: `  fedctl testbed up                 # start hub + eu-1, us-1, ap-1
  fedctl testbed status             # readiness and memory of every process
  fedctl testbed stop us-1          # simulate an outage of member us-1
  fedctl testbed start us-1         # bring it back, objects intact
  fedctl testbed down               # stop exactly what "up" started`,
	}
	cmd.PersistentFlags().StringVar(&o.cacheDir, "cache-dir", testbed.DefaultCacheDir(),
		"folder of the built binaries, keyed by version ($FEDSTATE_CACHE_DIR)")
	cmd.PersistentFlags().StringVar(&o.stateDir, "state-dir", defaultStateDir(),
		"folder of the running test bed: data, logs, kubeconfigs ($FEDSTATE_TESTBED_DIR)")
	cmd.PersistentFlags().DurationVar(&o.timeout, "timeout", 2*time.Minute,
		"how long to wait for each API server and member's nodes to become ready")
	cmd.AddCommand(
		newTestbedBuildCommand(o), newTestbedUpCommand(o), newTestbedDownCommand(o),
		newTestbedStatusCommand(o), newTestbedStopCommand(o), newTestbedStartCommand(o),
	)
	return cmd
}

// defaultStateDir is $FEDSTATE_TESTBED_DIR, else .testbed in the source
// tree, else testbed in the user's cache folder.
func defaultStateDir() string {
	if d := os.Getenv("FEDSTATE_TESTBED_DIR"); d != "" {
		return d
	}
	if root, ok := testbed.SourceRoot(); ok {
		return filepath.Join(root, ".testbed")
	}
	return filepath.Join(testbed.DefaultCacheDir(), "testbed-state")
}

func newTestbedBuildCommand(o *testbedOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "build",
		Short: "Build the test-bed binaries into the cache folder (no-op when present)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bins, err := testbed.Build(cmd.Context(), testbed.BuildConfig{CacheDir: o.cacheDir, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "kube-apiserver  %s\netcd            %s\nkwok            %s\nkubectl         %s\n",
				bins.KubeAPIServer, bins.Etcd, bins.Kwok, bins.Kubectl)
			return nil
		},
	}
}

func newTestbedUpCommand(o *testbedOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Build what is missing, start the test bed and return once every API server is ready",
		Long: `Start etcd, the hub and the member clusters in the background and return once
every API server answers /readyz and every member's nodes are Ready. The
processes keep running after fedctl exits; "fedctl testbed down" stops
exactly those processes (by recorded process ID).

Members are given as NAME=REGION/ZONE; the default is three members in three
regions.`,
		Example: `  fedctl testbed up
  fedctl testbed up --member eu-1=eu-west/eu-west-a --member eu-2=eu-west/eu-west-b`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			members, err := parseMembers(o.members)
			if err != nil {
				return err
			}
			bins, err := testbed.Build(cmd.Context(), testbed.BuildConfig{CacheDir: o.cacheDir, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			cfg := testbed.DefaultConfig()
			cfg.Binaries, cfg.StateDir, cfg.Members, cfg.Detach = bins, o.stateDir, members, true
			cfg.ReadyTimeout, cfg.Progress = o.timeout, cmd.ErrOrStderr()
			bed, err := testbed.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Test bed up: API servers ready after %s, member nodes ready after %s.\n\n",
				bed.APIServersReady.Round(time.Millisecond), bed.Ready.Round(time.Millisecond))
			printClusters(out, bed)
			fmt.Fprintf(out, "\netcd: %s\nTry:  %s --kubeconfig %s get nodes -L %s\nStop: fedctl testbed down\n",
				bed.EtcdURL(), bins.Kubectl, bed.Clusters()[len(bed.Clusters())-1].Kubeconfig, testbed.LabelRegion)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&o.members, "member", nil, "a member cluster as NAME=REGION/ZONE (repeatable; default eu-1, us-1, ap-1)")
	return cmd
}

// parseMembers turns NAME=REGION/ZONE flags into member specs.
func parseMembers(flags []string) ([]testbed.MemberSpec, error) {
	if len(flags) == 0 {
		return testbed.DefaultMembers(), nil
	}
	var out []testbed.MemberSpec
	var errs []error
	for _, f := range flags {
		name, loc, ok := strings.Cut(f, "=")
		region, zone, _ := strings.Cut(loc, "/")
		if !ok || name == "" || region == "" {
			errs = append(errs, fmt.Errorf("--member %q: want NAME=REGION/ZONE, for example eu-1=eu-west/eu-west-a", f))
			continue
		}
		out = append(out, testbed.MemberSpec{Name: name, Region: region, Zone: zone})
	}
	return out, errors.Join(errs...)
}

func printClusters(out io.Writer, bed *testbed.Bed) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tROLE\tREGION\tZONE\tSERVER\tKUBECONFIG")
	for _, c := range bed.Clusters() {
		role := "member"
		if c.Hub {
			role = "hub"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, role, dash(c.Region), dash(c.Zone), c.Server, c.Kubeconfig)
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newTestbedDownCommand(o *testbedOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop every process the test bed started and remove its state folder",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bed, err := testbed.Attach(o.stateDir)
			if err != nil {
				return fmt.Errorf("no test bed in %s: %w", o.stateDir, err)
			}
			n := len(bed.PIDs())
			if err := bed.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Test bed down: stopped %d processes, removed %s.\n", n, o.stateDir)
			return nil
		},
	}
}

func newTestbedStatusCommand(o *testbedOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each cluster's readiness and kubeconfig and each process's memory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bed, err := testbed.Attach(o.stateDir)
			if err != nil {
				return fmt.Errorf("no test bed in %s: %w", o.stateDir, err)
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLUSTER\tREADY\tSERVER\tKUBECONFIG")
			clusters := bed.Clusters()
			for i, h := range bed.Health(cmd.Context()) {
				fmt.Fprintf(tw, "%s\t%t\t%s\t%s\n", h.Name, h.Ready, h.Server, clusters[i].Kubeconfig)
			}
			tw.Flush()
			fmt.Fprintln(out)
			tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROCESS\tPID\tRSS\tPSS")
			var rss, pss int64
			for _, u := range bed.Usage() {
				fmt.Fprintf(tw, "%s\t%d\t%d MiB\t%d MiB\n", u.Name, u.PID, u.RSSBytes>>20, u.PSSBytes>>20)
				rss, pss = rss+u.RSSBytes, pss+u.PSSBytes
			}
			fmt.Fprintf(tw, "total\t\t%d MiB\t%d MiB\n", rss>>20, pss>>20)
			return tw.Flush()
		},
	}
}

func newTestbedStopCommand(o *testbedOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "stop CLUSTER",
		Short:   "Stop one cluster's processes, as in an outage; its objects stay in etcd",
		Example: "  fedctl testbed stop us-1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bed, err := testbed.Attach(o.stateDir)
			if err != nil {
				return fmt.Errorf("no test bed in %s: %w", o.stateDir, err)
			}
			if err := bed.StopCluster(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Stopped %s.\n", args[0])
			return nil
		},
	}
}

func newTestbedStartCommand(o *testbedOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "start CLUSTER",
		Short:   "Start a stopped cluster again and wait until it is ready",
		Example: "  fedctl testbed start us-1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bed, err := testbed.Attach(o.stateDir)
			if err != nil {
				return fmt.Errorf("no test bed in %s: %w", o.stateDir, err)
			}
			start := time.Now()
			if err := bed.StartCluster(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Started %s; ready after %s.\n", args[0], time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}
