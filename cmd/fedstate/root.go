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
the DNS server today (fedstate dns); the hub and the per-cluster agent arrive
as subcommands of the same binary.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDNSCommand(), newHubCommand())
	return root
}
