// Command fedstate runs the fedstate components: fedstate hub (placement,
// slices, the failover coordinator, drills), fedstate agent (one per member
// cluster: the replication driver, primary leases, self-fencing), fedstate
// dns (the authoritative server of the federation zone, fed by the
// federation etcd), fedstate fence-watchdog (started by the agent beside
// each primary) and fedstate etcd-roles (the federation etcd's users and
// roles).
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
