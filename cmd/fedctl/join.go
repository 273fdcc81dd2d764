package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/fedstate/fedstate/federation/membership"
)

// joinOptions are the flags of fedctl join.
type joinOptions struct {
	member membership.Options
	kube   kubeconfigFlags
	hub    kubeconfigFlags
}

func newJoinCommand() *cobra.Command {
	o := &joinOptions{}
	cmd := &cobra.Command{
		Use:   "join NAME --kubeconfig FILE --region REGION [--zone ZONE]",
		Short: "Join a Kubernetes cluster to the federation as member NAME",
		Long: `Join a Kubernetes cluster to the federation. With the member's admin
kubeconfig, join creates in the member:

  Namespace           fedstate-system
  ServiceAccount      fedstate-system/fedstate-hub
  ClusterRole         fedstate:hub (least privilege: see docs/members.md)
  ClusterRoleBinding  fedstate:hub
  Secret              fedstate-system/fedstate-hub-token (a long-lived token)

waits until that token is authorised, then creates in the hub:

  Secret              fedstate-system/NAME-kubeconfig (the member's server
                      URL and CA, and the token: none of your credentials)
  MemberCluster       NAME (region, zone, labels topology.kubernetes.io/*)

Running it again converges: it changes only what differs, keeps the token
and keeps the MemberCluster's taints. It refuses a NAME that already stands
for another cluster, and a cluster already joined under another name.

Progress goes to stderr, a summary to stdout.`,
		Example: `  # Join the cluster of ./eu-1.kubeconfig as eu-1, hub from $KUBECONFIG.
  fedctl join eu-1 --kubeconfig eu-1.kubeconfig --region eu-west --zone eu-west-a

  # Pick a context of a shared kubeconfig, and an explicit hub.
  fedctl join us-1 --kubeconfig ~/.kube/config --context us-east-prod \
      --region us-east --hub-kubeconfig hub.kubeconfig`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.member.Name = args[0]
			return runJoin(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kube.path, "kubeconfig", "", "admin kubeconfig of the cluster to join (required); only its server URL and CA reach the hub")
	f.StringVar(&o.kube.context, "context", "", "context of --kubeconfig to use; default its current context")
	f.StringVar(&o.member.Region, "region", "", "region the cluster runs in, for example eu-west (required; a label value)")
	f.StringVar(&o.member.Zone, "zone", "", "zone within the region, for example eu-west-a (a label value)")
	o.hub.addHub(cmd)
	return cmd
}

func runJoin(cmd *cobra.Command, o *joinOptions) error {
	// Every bad argument is reported at once, before anything is created.
	var bad []string
	if err := o.member.Validate(); err != nil {
		bad = argumentErrors(err)
	}
	var member *rest.Config
	var err error
	if o.kube.path == "" {
		bad = append(bad, "--kubeconfig: required: the admin kubeconfig of the cluster to join")
	} else if member, err = o.kube.load("kubeconfig"); err != nil {
		bad = append(bad, err.Error())
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
	res, err := membership.Join(ctx, hub, member, o.member)
	if err != nil {
		return fmt.Errorf("join %s: %w", o.member.Name, err)
	}
	printJoined(cmd.OutOrStdout(), o.member, res)
	return nil
}

// printJoined is the summary of a join.
func printJoined(out io.Writer, opts membership.Options, res membership.Result) {
	where := "region " + opts.Region
	if opts.Zone != "" {
		where += ", zone " + opts.Zone
	}
	if res.Changed() {
		fmt.Fprintf(out, "Joined %s (%s).\n", res.Name, where)
	} else {
		fmt.Fprintf(out, "%s was already joined (%s); nothing changed.\n", res.Name, where)
	}
	fmt.Fprintf(out, "The hub reaches %s as %s/%s with ClusterRole %s; kubeconfig in hub Secret %s/%s.\n\n",
		res.Server, membership.Namespace, membership.ServiceAccountName, membership.ClusterRoleName,
		membership.Namespace, membership.SecretName(res.Name))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tOBJECT\tRESULT")
	for _, o := range res.Objects {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Side, o.ObjectRef, o.Operation)
	}
	tw.Flush()
}
