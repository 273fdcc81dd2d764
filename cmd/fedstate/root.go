package main

import (
	"github.com/spf13/cobra"
)

// newRootCommand builds the fedstate command tree.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "fedstate",
		Short: "Run the components of a fedstate federation",
		Long: `fedstate runs the components of a fedstate federation of stateful services:
the hub (fedstate hub), one agent per member cluster (fedstate agent) and
DNS servers for the federation zone (fedstate dns). The agent starts a
fedstate fence-watchdog beside every primary it holds. fedstate etcd-roles
sets up the federation etcd's users and roles, so that each component can
touch only its keys (docs/security.md).

For a federation on one machine, "fedctl local up" starts them all.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDNSCommand(), newHubCommand(), newAgentCommand(), newFenceWatchdogCommand(), newEtcdRolesCommand())
	return root
}
