package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/fedstate/fedstate/federation/membership"
)

// unjoinOptions are the flags of fedctl unjoin.
type unjoinOptions struct {
	force bool
	kube  kubeconfigFlags
	hub   kubeconfigFlags
}

func newUnjoinCommand() *cobra.Command {
	o := &unjoinOptions{}
	cmd := &cobra.Command{
		Use:   "unjoin NAME [--force] [--kubeconfig FILE]",
		Short: "Remove member NAME from the federation and say what stays behind",
		Long: `Remove a member cluster from the federation.

unjoin refuses while any FederatedStatefulSet in the hub still names the
cluster, in its ordinal map (status.ordinals) or in spec.placement.clusters,
and lists them with their ordinals. Move the replicas away first (taint the
MemberCluster NoExecute), or pass --force.

It then deletes the MemberCluster and the hub Secret NAME-kubeconfig. Given
the member's admin kubeconfig (--kubeconfig), it also deletes the
ClusterRoleBinding and ClusterRole fedstate:hub, the token Secret, the
ServiceAccount and the fedstate-system namespace in the member, revoking the
hub's access at once; without it, or when the member is unreachable, those
stay and are listed.

unjoin never deletes workloads: StatefulSet slices, their Services,
PodDisruptionBudgets and PersistentVolumeClaims stay in the member, and the
summary lists each one. Running unjoin again finishes a partial run.`,
		Example: `  # Remove eu-1 and revoke the hub's access in it.
  fedctl unjoin eu-1 --kubeconfig eu-1.kubeconfig

  # Remove a member that is gone for good, although services still place
  # replicas there; their slices stay in it.
  fedctl unjoin us-1 --force`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUnjoin(cmd, o, args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.force, "force", false, "unjoin even while FederatedStatefulSets still place replicas in the cluster; their slices stay in the member")
	f.StringVar(&o.kube.path, "kubeconfig", "", "admin kubeconfig of the member, to remove the hub's ServiceAccount, token and RBAC from it; without it they stay")
	f.StringVar(&o.kube.context, "context", "", "context of --kubeconfig to use; default its current context")
	o.hub.addHub(cmd)
	return cmd
}

func runUnjoin(cmd *cobra.Command, o *unjoinOptions, name string) error {
	var bad []string
	var member *rest.Config
	var err error
	if o.kube.path != "" {
		if member, err = o.kube.load("kubeconfig"); err != nil {
			bad = append(bad, err.Error())
		}
	}
	hubCfg, err := o.hub.load("hub-kubeconfig")
	if err != nil {
		bad = append(bad, err.Error())
	}
	if err := invalidArguments(bad); err != nil {
		return err
	}
	hub, err := hubClient(hubCfg)
	if err != nil {
		return err
	}
	ctx := logr.NewContext(cmd.Context(), progressLogger(cmd.ErrOrStderr()))
	rep, err := membership.Unjoin(ctx, hub, member, name, o.force)
	var inv *membership.InvalidOptionsError
	switch {
	case errors.As(err, &inv):
		return invalidArguments(argumentErrors(err))
	case errors.Is(err, membership.ErrInUse):
		return fmt.Errorf("unjoin %s: %w\nMove the replicas away first, or run again with --force: their slices then stay in the member", name, err)
	case err != nil:
		printUnjoined(cmd.OutOrStdout(), rep, o.kube.path != "")
		return fmt.Errorf("unjoin %s: %w", name, err)
	}
	printUnjoined(cmd.OutOrStdout(), rep, o.kube.path != "")
	return nil
}

// printUnjoined is the summary of an unjoin: what went, what stays.
func printUnjoined(out io.Writer, rep membership.Report, memberGiven bool) {
	if len(rep.Deleted) > 0 {
		fmt.Fprintf(out, "Unjoined %s.\n", rep.Name)
	} else {
		fmt.Fprintf(out, "Found nothing of %s to delete.\n", rep.Name)
	}
	if len(rep.Uses) > 0 {
		fmt.Fprintln(out, "\nStill placed there (removed anyway, --force):")
		for _, u := range rep.Uses {
			fmt.Fprintf(out, "  %s\n", u)
		}
	}
	if len(rep.Deleted) > 0 {
		fmt.Fprintln(out, "\nDeleted:")
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, d := range rep.Deleted {
			fmt.Fprintf(tw, "  %s\t%s\n", d.Side, d)
		}
		tw.Flush()
	}
	if len(rep.LeftBehind) > 0 {
		fmt.Fprintln(out, "\nLeft behind:")
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, l := range rep.LeftBehind {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Side, l.ObjectRef, l.Reason)
		}
		tw.Flush()
	} else {
		fmt.Fprintln(out, "\nNothing left behind.")
	}
	if !rep.MemberCleaned {
		hint := "run again with the member's admin kubeconfig"
		if memberGiven {
			hint = "run again once the member is reachable"
		}
		fmt.Fprintf(out, "\nThe hub's ServiceAccount, token and RBAC may remain in the member: %s:\n  fedctl unjoin %s --kubeconfig FILE\n", hint, rep.Name)
	}
}
