package main

import (
	"github.com/spf13/cobra"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func newFailoverCommand() *cobra.Command {
	o := &requestOptions{}
	var to string
	var acceptLoss bool
	cmd := &cobra.Command{
		Use:   "failover SERVICE [--to REPLICA] [--accept-data-loss]",
		Short: "Promote a replica of a service whose primary is lost",
		Long: `Ask the hub to promote a replica of a FederatedStatefulSet whose primary
has lost its lease: in Manual failover mode, or when no replica is within the
service's RPO budget (condition FailingOver, reason NoCandidate, says so and
names each replica). The hub refuses while the primary holds its lease: move
a healthy primary with fedctl switchover.

--to names the replica to promote; without it, the best one. Only with
--accept-data-loss may the hub promote a replica that lacks more than the RPO
budget allows; the estimated loss is in the failover history.

fedctl sets the annotation fedstate.io/failover with a new request id, then
follows status.requests until the hub answers: progress on stderr, the
outcome on stdout. A refused or failed request exits 1 with the reason.`,
		Example: `  # Promote the best replica of prod/db within its RPO budget:
  fedctl failover prod/db

  # No replica is within the budget; promote the best one anyway:
  fedctl failover prod/db --accept-data-loss`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := opRequest{kind: v1alpha1.RequestFailover, annotation: v1alpha1.AnnotationFailover}
			if to != "" {
				r.fields, r.detail = append(r.fields, "to="+to), " to "+to
			}
			if acceptLoss {
				r.fields, r.detail = append(r.fields, "acceptDataLoss=true"), r.detail+", accepting data loss"
			}
			return runRequest(cmd, o, args[0], r)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "replica to promote, such as db-2; default the best")
	cmd.Flags().BoolVar(&acceptLoss, "accept-data-loss", false, "allow a replica beyond the RPO budget")
	o.add(cmd)
	return cmd
}
