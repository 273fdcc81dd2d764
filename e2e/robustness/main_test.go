//go:build robustness

package robustness

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/localfed"
)

var (
	iterations = flag.Int("iter", 5, "iterations of the fault schedule")
	baseSeed   = flag.Uint64("seed", 0, "seed of the first iteration (0: from the clock); iteration i uses seed+i")
	faultKinds = flag.String("faults", "", "comma-separated fault kinds to draw from (empty: all)")
	reportFile = flag.String("report", "", "file to write the run's JSON report to")
)

// fed is the federation the suite runs against: three regions and a
// federation etcd of three members.
var fed *localfed.Federation

// leaseTTL is the agents' primary lease TTL.
const leaseTTL = 4 * time.Second

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "e2e/robustness:", err); return 1 }
	if os.Geteuid() != 0 {
		return fail(fmt.Errorf("must run as root: the agents run PostgreSQL as the postgres user"))
	}
	dir, err := os.MkdirTemp("", "fedstate-robustness-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	fed, err = localfed.Start(ctx, localfed.Options{
		Dir: dir, EtcdMembers: 3, LeaseTTL: leaseTTL, RenewInterval: 400 * time.Millisecond,
		ReportInterval: 500 * time.Millisecond, Progress: os.Stderr,
	})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if os.Getenv("FEDSTATE_KEEP_LOGS") != "" {
			_ = exec.Command("cp", "-a", fed.Bed.Dir(), dir+".logs").Run()
			fmt.Fprintln(os.Stderr, "logs kept in", dir+".logs")
		}
		if err := fed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	return m.Run()
}
