package main

import (
	"github.com/spf13/cobra"
)

// newRootCommand builds the fedctl command tree.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "fedctl",
		Short: "Operate a fedstate federation of stateful services",
		Long: `fedctl operates a fedstate federation: a hub that places the replicas of
stateful services across member Kubernetes clusters, keeps one writable
primary through failures and serves federated DNS.

Join a member cluster with "fedctl join", remove it with "fedctl unjoin".
See where a service's replicas run, its primary and DNS names with
"fedctl status". Move a primary with "fedctl switchover"; promote a replica of a service whose
primary is lost with "fedctl failover". Measure what clients of a PostgreSQL
service see meanwhile with "fedctl load".

List member clusters, services and drills with "fedctl get clusters|services|drills".
Ask the federation DNS server a question and have its answer explained with
"fedctl dig". Rehearse losing a region with "fedctl drill run" and read what
it measured with "fedctl drill report".

Copied or linked as kubectl-fedstate on PATH (make build writes
bin/kubectl-fedstate), fedctl is the kubectl plugin "kubectl fedstate".

"fedctl local up" runs a whole federation on this machine (clusters, etcd,
hub, agents with real PostgreSQL servers, DNS) for a try; "fedctl testbed"
runs only the clusters under it. Both build what they need from the Go
module proxy.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newLocalCommand(), newTestbedCommand(), newJoinCommand(), newUnjoinCommand(), newStatusCommand(), newSwitchoverCommand(),
		newFailoverCommand(), newLoadCommand(), newGetCommand(), newDigCommand(), newDrillCommand())
	return root
}
