// Command fedstate runs the fedstate components. Today it has one
// subcommand, fedstate dns: the authoritative DNS server of the federation
// zone, fed by the federation etcd. The hub and agent subcommands arrive
// with their issues.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "fedstate:", err)
		stop()
		os.Exit(1)
	}
}
