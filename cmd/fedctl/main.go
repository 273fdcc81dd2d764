// Command fedctl is the operator's command-line tool for fedstate: fedctl
// join and unjoin add and remove member clusters, fedctl status shows a
// service's replicas, primary and DNS names, fedctl switchover and
// failover ask the hub for a change of primary, fedctl load writes to a
// PostgreSQL service and measures its downtime, and fedctl testbed
// up|down|status|stop|start|build drives the local test bed. fedctl get
// lists member clusters, services and drills, fedctl dig asks the
// federation DNS server and explains its answer, and fedctl drill run and
// report run failover drills. Installed as kubectl-fedstate on PATH, it is
// the kubectl plugin "kubectl fedstate".
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
	root, name := newRootCommand(), "fedctl"
	if isPlugin(os.Args[0]) {
		asKubectlPlugin(root)
		name = pluginDisplayName
	}
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		stop()
		os.Exit(1)
	}
}
