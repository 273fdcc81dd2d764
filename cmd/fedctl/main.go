// Command fedctl is the operator's command-line tool for fedstate: fedctl
// join and unjoin add and remove member clusters, fedctl status shows a
// service's replicas, primary and DNS names, fedctl switchover and
// failover ask the hub for a change of primary, fedctl load writes to a
// PostgreSQL service and measures its downtime, and fedctl testbed
// up|down|status|stop|start|build drives the local test bed.
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
		fmt.Fprintln(os.Stderr, "fedctl:", err)
		stop()
		os.Exit(1)
	}
}
