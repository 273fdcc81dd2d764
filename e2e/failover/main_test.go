package failover

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/e2e/testbed"
)

// The federation every test of the package shares.
var (
	fed      *localfed.Federation
	bed      *testbed.Bed
	hubc     client.Client
	dnsAddr  string   // the first of dnsAddrs
	dnsAddrs []string // one DNS server per region
)

// reportInterval is how often the agents report.
const reportInterval = 500 * time.Millisecond

// leaseTTL is the agents' primary lease TTL: 4 s, or FEDSTATE_LEASE_TTL
// (make bench-failover measures with 2 s).
var leaseTTL = 4 * time.Second

// primaryGiveUp is the agents' --primary-give-up: shorter than the default
// 30 s, so that TestPrimaryServerCannotStart is quick.
const primaryGiveUp = 5 * time.Second

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "e2e/failover:", err); return 1 }
	if os.Geteuid() != 0 {
		return fail(fmt.Errorf("must run as root: the agents run PostgreSQL as the postgres user"))
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return fail(fmt.Errorf("the postgres OS user is missing (Debian package postgresql-15): %w", err))
	}
	if v := os.Getenv("FEDSTATE_LEASE_TTL"); v != "" {
		ttl, err := time.ParseDuration(v)
		if err != nil {
			return fail(fmt.Errorf("FEDSTATE_LEASE_TTL: %w", err))
		}
		leaseTTL = ttl
	}
	dir, err := os.MkdirTemp("", "fedstate-failover-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	fed, err = localfed.Start(ctx, localfed.Options{
		Dir: dir, LeaseTTL: leaseTTL, RenewInterval: min(400*time.Millisecond, leaseTTL/6), ReportInterval: reportInterval,
		PrimaryGiveUp: primaryGiveUp, Progress: os.Stderr,
	})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if os.Getenv("FEDSTATE_KEEP_LOGS") != "" {
			_ = exec.Command("cp", "-a", fed.Bed.Dir(), dir+".logs").Run()
			// The agents' run folders hold the PostgreSQL server logs.
			_ = exec.Command("cp", "-a", fed.RunDir, dir+".run").Run()
			fmt.Fprintln(os.Stderr, "logs kept in", dir+".logs and", dir+".run")
		}
		if err := fed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	bed, hubc, dnsAddrs = fed.Bed, fed.Hub, fed.DNS
	dnsAddr = dnsAddrs[0]
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return m.Run()
}
