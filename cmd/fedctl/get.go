package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// getTimeout bounds the API calls of fedctl get: a few list calls that a
// healthy hub answers in milliseconds.
const getTimeout = 30 * time.Second

// getOptions are the flags of the fedctl get commands.
type getOptions struct {
	hub           kubeconfigFlags
	output        string
	namespace     string
	allNamespaces bool
	// namespaced is true for kinds that live in namespaces (-n, -A).
	namespaced bool
}

// addOutput adds -o and the hub flags to cmd.
func (o *getOptions) addOutput(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.output, "output", "o", formatTable, "output format: table, json or yaml (fedctl get clusters -o yaml)")
	o.hub.addHub(cmd)
}

// addNamespace adds -n and -A to cmd, for namespaced kinds.
func (o *getOptions) addNamespace(cmd *cobra.Command) {
	o.namespaced = true
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "default", "namespace to list (fedctl get services -n prod)")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list every namespace; -n is ignored (fedctl get drills -A)")
}

// client checks the flags and builds a client of the hub.
func (o *getOptions) client() (client.Client, error) {
	var bad []string
	if err := checkFormat(o.output); err != nil {
		bad = append(bad, err.Error())
	}
	if o.namespaced && !o.allNamespaces && o.namespace == "" {
		bad = append(bad, "-n \"\": want a namespace, or -A for all")
	}
	cfg, err := o.hub.load("hub-kubeconfig")
	if err != nil {
		bad = append(bad, err.Error())
	}
	if len(bad) > 0 {
		return nil, invalidArguments(bad)
	}
	return hubClient(cfg)
}

// run checks the flags, connects to the hub and prints what list renders
// from it, within getTimeout.
func (o *getOptions) run(cmd *cobra.Command, list func(context.Context, client.Client) ([]byte, error)) error {
	hub, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), getTimeout)
	defer cancel()
	return write(cmd, func() ([]byte, error) { return list(ctx, hub) })
}

// listOptions are the namespace restriction of a list call.
func (o *getOptions) listOptions() []client.ListOption {
	if o.allNamespaces || !o.namespaced {
		return nil
	}
	return []client.ListOption{client.InNamespace(o.namespace)}
}

func newGetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get clusters|services|drills",
		Short: "List member clusters, services or drills",
		Long: `List the federation's objects in the hub, one line each, as kubectl get
does, with the columns an operator of the federation asks for first. Each
kind has its own subcommand and aliases:

  clusters  (cluster, mc)        MemberClusters
  services  (service, svc, fss)  FederatedStatefulSets
  drills    (drill)              FailoverDrills

-o json and -o yaml print the same rows as a stable document (fields are
added, never renamed or removed).`,
		Example: `  fedctl get clusters
  fedctl get svc -A
  fedctl get drills -n prod -o json`,
	}
	cmd.AddCommand(newGetClustersCommand(), newGetServicesCommand(), newGetDrillsCommand())
	return cmd
}

func newGetClustersCommand() *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:     "clusters [-o table|json|yaml]",
		Aliases: []string{"cluster", "mc"},
		Short:   "List the member clusters",
		Long: `List the MemberClusters of the federation (cluster-scoped):

  NAME     the member's name
  REGION   spec.region: placement spreads over regions, DNS prefers them
  ZONE     spec.zone within the region; - when unset
  READY    condition Ready: True when the hub reaches the member and its
           API server is ready (new replicas may go there); the reason
           follows when it is not True
  AGENT    condition AgentAlive: True while the member's agent holds its
           session in the federation etcd; the reason follows when it is
           not True
  TAINTS   spec.taints as key=value:Effect, comma-separated; - for none
  AGE      time since the MemberCluster was created

-o json and -o yaml print {"clusters": [...]} with name, region, zone,
ready, readyReason, agentAlive, agentAliveReason, taints and created (RFC
3339, UTC).`,
		Example: `  # Every member cluster:
  fedctl get clusters

  # The same for a script, through an explicit hub kubeconfig:
  fedctl get mc -o json --hub-kubeconfig hub.kubeconfig | jq -r '.clusters[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, hub client.Client) ([]byte, error) {
				var list v1alpha1.MemberClusterList
				if err := hub.List(ctx, &list); err != nil {
					return nil, fmt.Errorf("list MemberClusters: %w", err)
				}
				return renderClusters(o.output, list.Items, time.Now())
			})
		},
	}
	o.addOutput(cmd)
	return cmd
}

func newGetServicesCommand() *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:     "services [-n NAMESPACE | -A] [-o table|json|yaml]",
		Aliases: []string{"service", "svc", "fss"},
		Short:   "List the federated services (FederatedStatefulSets)",
		Long: `List the FederatedStatefulSets of a namespace (-n, default "default") or
of all namespaces (-A):

  NAMESPACE  the service's namespace
  NAME       the service's name
  MODE       spec.replication.mode: None, Native or PrimaryReplica
  READY      ready replicas / desired replicas (spec.replicas)
  PRIMARY    the primary replica and its cluster ("db-2 in us-1"); - with
             none committed or outside PrimaryReplica mode
  EPOCH      the primary's fencing epoch; - without a primary
  REGIONS    the regions of the clusters the replicas run in (from the
             MemberClusters, else the service's status)
  AGE        time since the service was created

fedctl status NAMESPACE/NAME shows one service in detail. -o json and -o
yaml print {"services": [...]} with namespace, name, mode,
desiredReplicas, readyReplicas, primary (replica, cluster, epoch; null
without one), regions and created.`,
		Example: `  # The services of namespace prod:
  fedctl get services -n prod

  # Every service, every namespace:
  fedctl get svc -A

  # Which cluster runs each primary:
  fedctl get fss -A -o json | jq -r '.services[] | "\(.name) \(.primary.cluster)"'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, hub client.Client) ([]byte, error) {
				var list v1alpha1.FederatedStatefulSetList
				if err := hub.List(ctx, &list, o.listOptions()...); err != nil {
					return nil, fmt.Errorf("list FederatedStatefulSets: %w", err)
				}
				var members v1alpha1.MemberClusterList
				if err := hub.List(ctx, &members); err != nil {
					if !apierrors.IsForbidden(err) {
						return nil, fmt.Errorf("list MemberClusters: %w", err)
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "Regions from the services' status: %v\n", err)
				}
				return renderServices(o.output, list.Items, members.Items, time.Now())
			})
		},
	}
	o.addOutput(cmd)
	o.addNamespace(cmd)
	return cmd
}

func newGetDrillsCommand() *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:     "drills [-n NAMESPACE | -A] [-o table|json|yaml]",
		Aliases: []string{"drill"},
		Short:   "List the failover drills and their last verdicts",
		Long: `List the FailoverDrills of a namespace (-n, default "default") or of all
namespaces (-A), with what their last run measured:

  NAMESPACE  the drill's namespace
  NAME       the drill's name
  SERVICE    the FederatedStatefulSet it rehearses on
  KIND       Switchover, RegionOutage or Failback
  PHASE      Pending, Running, Succeeded, Failed or Aborted
  STEP       step of the run: Away, Hold, Back, Reverting, Report, Done
  RTO        from the first switchover's request to the first write the
             new primary acknowledged; - when not measured
  DOWNTIME   the longest time clients could not write; - without traffic
  LOST       acknowledged writes missing on the final primary; - when not
             verified
  VERDICT    Passed, Failed or Aborted; - before the first run ends
  LAST RUN   the run's number and when it finished (or started, while it
             runs); - before the first

fedctl drill report NAME shows one drill's last run in detail. -o json and
-o yaml print {"drills": [...]} with namespace, name, service, kind,
phase, step, rto and downtime (Go durations, "" when not measured),
lostWrites (null when not verified), verdict, reason, runs, startedAt and
finishedAt.`,
		Example: `  # The drills of namespace prod:
  fedctl get drills -n prod

  # Every drill that did not pass, for a script:
  fedctl get drill -A -o json | jq -r '.drills[] | select(.verdict != "Passed") | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, hub client.Client) ([]byte, error) {
				var list v1alpha1.FailoverDrillList
				if err := hub.List(ctx, &list, o.listOptions()...); err != nil {
					return nil, fmt.Errorf("list FailoverDrills: %w", err)
				}
				return renderDrills(o.output, list.Items, time.Now())
			})
		},
	}
	o.addOutput(cmd)
	o.addNamespace(cmd)
	return cmd
}

// write prints what out renders on cmd's standard output.
func write(cmd *cobra.Command, out func() ([]byte, error)) error {
	b, err := out()
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(b)
	return err
}
