package load_test

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/drill/load"
	"github.com/fedstate/fedstate/replication/postgres"
)

// TestFollowsNewPrimary writes to a primary named by the DNS server,
// fences it (read-only, sessions cut), then names a second, independent
// server: the generator records the refused writes and the gap, follows
// the new name, and Verify finds on each server exactly the acknowledged
// writes that went to the other.
func TestFollowsNewPrimary(t *testing.T) {
	requirePostgres(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	base := testDir(t)
	ipA, ipB := loopback(1), loopback(2)
	var a *postgres.Instance
	var eg errgroup.Group
	eg.Go(func() (err error) { a, err = startPostgres(ctx, t, base, "pg-0", ipA); return err })
	eg.Go(func() error { _, err := startPostgres(ctx, t, base, "pg-1", ipB); return err })
	cli := startEtcd(t)
	server := startDNS(t, cli)
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}

	w, err := dnsserver.NewWriter(dnsserver.DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}
	var ops dnsserver.Ops
	add := func(o dnsserver.Ops, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		ops = ops.Add(o)
	}
	replica := func(ip netip.Addr, role dnsserver.Role) dnsserver.Replica {
		return dnsserver.Replica{Cluster: "eu-1", Region: "eu", Addresses: []netip.Addr{ip}, Role: role, Ready: true}
	}
	add(w.PutService("drill", "pg", dnsserver.Service{Ports: []dnsserver.Port{{Name: "postgres", Protocol: "tcp", Port: 5432}}}))
	add(w.PutReplica("drill", "pg", 0, replica(ipA, dnsserver.RoleSyncStandby)))
	add(w.PutReplica("drill", "pg", 1, replica(ipB, dnsserver.RoleSyncStandby)))
	add(w.SetPrimary("drill", "pg", nil, dnsserver.Primary{Ordinal: 0, Epoch: 1}))
	if err := w.Commit(ctx, cli, ops); err != nil {
		t.Fatal(err)
	}

	cfg := load.DefaultConfig()
	cfg.DNSServer, cfg.Namespace, cfg.Service = server, "drill", "pg"
	cfg.Rate, cfg.ReadRate = 50, 20
	cfg.CreateTable = true
	cfg.GapThreshold = 200 * time.Millisecond
	primaryName := cfg.PrimaryName()
	poll(t, 10*time.Second, "DNS names the first primary", wantPrimary(server, primaryName, ipA))
	g, err := load.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	started := time.Now()
	go func() { ran <- g.Run(runCtx) }()

	// A second and a half of writes to the first server, then its fence.
	onA, onB := netip.AddrPortFrom(ipA, 5432), netip.AddrPortFrom(ipB, 5432)
	acks := func(addr netip.AddrPort, after time.Time) (n int) {
		for _, op := range g.Ops() {
			if op.Kind == load.Write && op.Outcome == load.OK && op.Addr == addr && op.Return.After(after) {
				n++
			}
		}
		return n
	}
	poll(t, 10*time.Second, "writes on the first server", func() error {
		if time.Since(started) < 1500*time.Millisecond {
			return fmt.Errorf("%d acknowledged", acks(onA, started))
		}
		return nil
	})
	fenceAt := time.Now()
	if _, err := a.Fence(ctx); err != nil {
		t.Fatal(err)
	}
	fenced := time.Now()
	// Half a second of refused writes.
	poll(t, 5*time.Second, "refused writes", func() error {
		if n := g.Snapshot().Writes.Errors[load.ErrReadOnly]; n < 5 || time.Since(fenced) < 500*time.Millisecond {
			return fmt.Errorf("%d read-only errors", n)
		}
		return nil
	})

	// DNS names the second server; the generator follows within a second
	// or so (its answers are at most ResolveInterval old).
	ops = dnsserver.Ops{}
	add(w.SetPrimary("drill", "pg", &dnsserver.Primary{Ordinal: 0, Epoch: 1}, dnsserver.Primary{Ordinal: 1, Epoch: 2}))
	add(w.PutReplica("drill", "pg", 0, replica(ipA, dnsserver.RoleFenced)))
	flipped := time.Now()
	if err := w.Commit(ctx, cli, ops); err != nil {
		t.Fatal(err)
	}
	poll(t, 5*time.Second, "writes on the second server", func() error {
		if n := acks(onB, flipped); n < 50 {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	})
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if err := g.Run(ctx); err != load.ErrRunning {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}

	s := g.Snapshot()
	history := g.Ops()
	t.Logf("writes %d ok, errors %v; downtime %v; gaps %+v; p50 %v p99 %v; reads %d ok, errors %v",
		s.Writes.OK, s.Writes.Errors, s.Downtime, s.Gaps, s.Writes.P50, s.Writes.P99, s.Reads.OK, s.Reads.Errors)

	// The rate: before the fence, about 50 writes a second were acknowledged.
	if n, want := acks(onA, started), 50*fenceAt.Sub(started).Seconds(); float64(n) < 0.6*want || float64(n) > 1.05*want+1 {
		t.Errorf("%d writes acknowledged in %v before the fence, want about %.0f", n, fenceAt.Sub(started), want)
	}
	// No write acknowledged by the first server once fenced, none by the
	// second before the flip, and the generator moved over for good.
	var firstOnB time.Time
	for _, op := range history {
		if op.Kind != load.Write || op.Outcome != load.OK {
			continue
		}
		switch {
		case op.Addr == onA && (op.Invoke.After(fenced) || !firstOnB.IsZero()):
			t.Errorf("write %d acknowledged by the fenced server at %v", op.ID, op.Return.Sub(started))
		case op.Addr == onB && op.Invoke.Before(flipped):
			t.Errorf("write %d on the second server before DNS named it", op.ID)
		case op.Addr == onB && firstOnB.IsZero():
			firstOnB = op.Return
		}
	}
	follow := firstOnB.Sub(flipped)
	if follow > 2*time.Second {
		t.Errorf("first write on the new primary %v after the flip, want within 2s", follow)
	}
	t.Logf("first write on the new primary %v after the flip", follow.Round(time.Millisecond))
	// The gap covers the fence and the flip, and is the downtime.
	if len(s.Gaps) != 1 {
		t.Fatalf("gaps %+v, want one", s.Gaps)
	}
	gap := s.Gaps[0]
	if gap.From.After(fenced) || gap.To.Before(flipped) || gap.Errors < 5 || gap.Open || s.Downtime != gap.Duration() {
		t.Errorf("gap %+v (downtime %v): want it from before the fence (%v) to after the flip (%v), with the errors",
			gap, s.Downtime, fenced.Sub(started), flipped.Sub(started))
	}
	if s.Primary != onB {
		t.Errorf("primary %v, want %v", s.Primary, onB)
	}
	if s.Reads.OK == 0 {
		t.Errorf("no read succeeded: %v", s.Reads.Errors)
	}

	// Verify: each server lacks exactly the acknowledged writes of the other.
	var ackedOn = map[netip.AddrPort][]int64{}
	for _, op := range history {
		if op.Kind == load.Write && op.Outcome == load.OK {
			ackedOn[op.Addr] = append(ackedOn[op.Addr], op.ID)
		}
	}
	for _, tc := range []struct{ server, other netip.AddrPort }{{onB, onA}, {onA, onB}} {
		lost, err := g.Verify(ctx, tc.server)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(lost, ackedOn[tc.other]) {
			t.Errorf("Verify(%v) = %v, want the %d writes acknowledged on %v", tc.server, lost, len(ackedOn[tc.other]), tc.other)
		}
	}
}
