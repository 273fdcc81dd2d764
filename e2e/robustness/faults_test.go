//go:build robustness

package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/replication/coord"
)

// A fault is injected into the federation and later repaired. inject
// returns the repair, run after the fault was held for a while.
type fault struct {
	kind   string
	inject func(ctx context.Context, f *localfed.Federation, target string, rng *rand.Rand) (repair func(context.Context) error, err error)
}

// faults are the kinds the schedule draws from. target is the member
// cluster of the synchronous service's primary when the fault starts.
var faults = []fault{
	{"region-kill", func(ctx context.Context, f *localfed.Federation, target string, _ *rand.Rand) (func(context.Context) error, error) {
		// The whole region dies: API server, agent, PostgreSQL (SIGKILL);
		// the repair is the region returning on the same data.
		if err := f.Bed.StopCluster(target); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return f.Bed.StartCluster(ctx, target) }, nil
	}},
	{"region-partition", func(ctx context.Context, f *localfed.Federation, target string, _ *rand.Rand) (func(context.Context) error, error) {
		// The region keeps running, cut off from etcd and the hub.
		f.Partition(target)
		return func(context.Context) error { f.Heal(target); return nil }, nil
	}},
	{"hub-kill-mid-failover", func(ctx context.Context, f *localfed.Federation, target string, _ *rand.Rand) (func(context.Context) error, error) {
		// The primary's region dies; once its lease is gone the hub is
		// killed and started again while it fails over.
		if err := f.Bed.StopCluster(target); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(3 * leaseTTL)
		for time.Now().Before(deadline) {
			snap, err := f.Store.Snapshot(ctx, coord.Service{Namespace: namespace, Name: syncService})
			if err == nil && snap.Lease == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := f.Bed.StopProcess(testbed.HubName, localfed.HubProcess); err != nil {
			return nil, err
		}
		time.Sleep(time.Second)
		if err := f.Bed.StartProcess(testbed.HubName, localfed.HubProcess); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return f.Bed.StartCluster(ctx, target) }, nil
	}},
	{"etcd-member-kill", func(ctx context.Context, f *localfed.Federation, _ string, rng *rand.Rand) (func(context.Context) error, error) {
		// One of the three federation etcd members dies.
		name := localfed.EtcdProcess(rng.IntN(3))
		if err := f.Bed.StopProcess(testbed.HubName, name); err != nil {
			return nil, err
		}
		return func(context.Context) error { return f.Bed.StartProcess(testbed.HubName, name) }, nil
	}},
	{"agent-restart", func(ctx context.Context, f *localfed.Federation, target string, _ *rand.Rand) (func(context.Context) error, error) {
		// The primary's agent is killed and started again at once.
		if err := f.Bed.StopProcess(target, localfed.AgentProcess); err != nil {
			return nil, err
		}
		if err := f.Bed.StartProcess(target, localfed.AgentProcess); err != nil {
			return nil, err
		}
		return func(context.Context) error { return nil }, nil
	}},
	{"agent-pause", func(ctx context.Context, f *localfed.Federation, target string, _ *rand.Rand) (func(context.Context) error, error) {
		// The primary's agent is stopped (SIGSTOP) past its lease.
		if err := f.Bed.PauseProcess(target, localfed.AgentProcess); err != nil {
			return nil, err
		}
		return func(context.Context) error { return f.Bed.ResumeProcess(target, localfed.AgentProcess) }, nil
	}},
}

// faultByKind finds a fault kind.
func faultByKind(kind string) (fault, error) {
	for _, f := range faults {
		if f.kind == kind {
			return f, nil
		}
	}
	return fault{}, fmt.Errorf("unknown fault kind %q", kind)
}
