package main

import (
	"github.com/spf13/cobra"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func newSwitchoverCommand() *cobra.Command {
	o := &requestOptions{}
	var to string
	cmd := &cobra.Command{
		Use:   "switchover SERVICE [--to CLUSTER|REGION|REPLICA]",
		Short: "Move a service's primary to another replica without losing data",
		Long: `Ask the hub for a planned switchover of a FederatedStatefulSet in
PrimaryReplica mode: the primary is demoted, the target replays everything the
primary wrote, then the target is promoted in a new epoch and DNS names it.
No acknowledged write is lost.

--to chooses the target: a replica (db-2), a member cluster or a region,
tried in that order; the best replica there (the most advanced) is promoted.
Without --to, the best replica anywhere.

fedctl sets the annotation fedstate.io/switchover-to on the service with a
new request id, then follows status.requests until the hub answers: progress
on stderr, the outcome on stdout. A refused or failed switchover exits 1 with
the hub's reason.`,
		Example: `  # Move the primary of prod/db to the us-east region:
  fedctl switchover prod/db --to us-east

  # To member cluster eu-2, service in the current namespace flag:
  fedctl switchover db -n prod --to eu-2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := opRequest{kind: v1alpha1.RequestSwitchover, annotation: v1alpha1.AnnotationSwitchover}
			if to != "" {
				r.fields, r.detail = []string{"to=" + to}, " to "+to
			}
			return runRequest(cmd, o, args[0], r)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "target: a replica, a member cluster or a region")
	o.add(cmd)
	return cmd
}
