package coord

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/dnsserver"
)

// dnsWriter writes DNS records under the test's root, beside (not under)
// the coordination prefix.
func dnsWriter(t testing.TB) (*dnsserver.Writer, string) {
	t.Helper()
	cfg := dnsserver.DefaultWriterConfig()
	cfg.Prefix = testRoot(t) + "dns/"
	w, err := dnsserver.NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w, cfg.Prefix
}

// dnsOps builds the DNS side of promoting replica n in epoch next: the
// primary record guarded by prev, and the replica record of n.
func dnsOps(t testing.TB, w *dnsserver.Writer, prev *dnsserver.Primary, n int, next int64) dnsserver.Ops {
	t.Helper()
	ops, err := w.SetPrimary(svc1.Namespace, svc1.Name, prev, dnsserver.Primary{Ordinal: n, Epoch: next})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.PutReplica(svc1.Namespace, svc1.Name, n, dnsserver.Replica{Cluster: "eu-1", Region: "eu",
		Addresses: []netip.Addr{netip.AddrFrom4([4]byte{127, 12, 0, byte(n + 2)})}, Role: dnsserver.RoleSyncStandby, Ready: true})
	if err != nil {
		t.Fatal(err)
	}
	return ops.Add(rep)
}

// TestPromoteAtomic: a promotion writes epoch, primary, failover state and
// the DNS records in one revision, and the DNS primary key holds the
// SetPrimary value.
func TestPromoteAtomic(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	w, dnsPrefix := dnsWriter(t)
	res, err := st.Promote(t.Context(), PromoteRequest{
		Service: svc1, Leader: hub.Guard(), OldEpoch: 0, NewPrimary: 3,
		FailoverState: []byte("promoted 3"), DNS: dnsOps(t, w, nil, 3, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Epoch != 1 {
		t.Fatalf("epoch %d, want 1", res.Epoch)
	}

	// Read everything back at the promotion's revision (but the leader's
	// election key, written when it won).
	resp, err := st.Client().Get(t.Context(), testRoot(t), clientv3.WithPrefix(), clientv3.WithRev(res.Revision))
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]byte{}
	for _, kv := range without(resp.Kvs, ElectionPrefix(st.Prefix())) {
		if kv.ModRevision != res.Revision {
			t.Errorf("%s written at revision %d, not the promotion's %d", kv.Key, kv.ModRevision, res.Revision)
		}
		byKey[string(kv.Key)] = kv.Value
	}
	if len(byKey) != 5 {
		t.Errorf("%d keys written, want epoch, primary, failover state and two DNS records: %v", len(byKey), keys(byKey))
	}
	if got := string(byKey[st.key(ServiceKey(svc1, KindEpoch))]); got != "1" {
		t.Errorf("epoch = %q, want 1", got)
	}
	if p, err := DecodePrimary(byKey[st.key(ServiceKey(svc1, KindPrimary))]); err != nil || p != (Primary{Replica: 3, Epoch: 1}) {
		t.Errorf("primary = %+v, %v", p, err)
	}
	if got := string(byKey[st.key(ServiceKey(svc1, KindFailoverState))]); got != "promoted 3" {
		t.Errorf("failover state = %q", got)
	}
	dnsKey := dnsserver.Key{Namespace: svc1.Namespace, Service: svc1.Name, Kind: dnsserver.KindPrimary}.EtcdKey(dnsPrefix)
	if p, err := dnsserver.DecodePrimary(byKey[dnsKey]); err != nil || p != (dnsserver.Primary{Ordinal: 3, Epoch: 1}) {
		t.Errorf("DNS primary at %s = %+v, %v; want ordinal 3 epoch 1", dnsKey, p, err)
	}

	// The next promotion chains on the first: guarded by the old DNS primary too.
	prev := dnsserver.Primary{Ordinal: 3, Epoch: 1}
	res, err = st.Promote(t.Context(), PromoteRequest{Service: svc1, Leader: hub.Guard(), OldEpoch: 1, NewPrimary: 4,
		DNS: dnsOps(t, w, &prev, 4, 2)})
	if err != nil || res.Epoch != 2 {
		t.Fatalf("second promotion: %+v, %v", res, err)
	}
	snap, err := st.Snapshot(t.Context(), svc1)
	if err != nil || snap.Epoch != 2 || *snap.Primary != (Primary{Replica: 4, Epoch: 2}) || snap.Revision < res.Revision {
		t.Fatalf("Snapshot after the second promotion = %+v, %v", snap, err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPromoteGuards: every failed guard leaves every key unchanged and
// names the guard by its error.
func TestPromoteGuards(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	w, _ := dnsWriter(t)
	if _, err := st.Promote(t.Context(), PromoteRequest{Service: svc1, Leader: hub.Guard(), NewPrimary: 0,
		FailoverState: []byte("s1"), DNS: dnsOps(t, w, nil, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	prev := dnsserver.Primary{Ordinal: 0, Epoch: 1}
	tests := []struct {
		name string
		req  PromoteRequest
		want []error
	}{
		{name: "stale epoch",
			req:  PromoteRequest{Service: svc1, Leader: hub.Guard(), OldEpoch: 0, NewPrimary: 1, DNS: dnsOps(t, w, nil, 1, 1)},
			want: []error{ErrConflict}},
		{name: "future epoch",
			req:  PromoteRequest{Service: svc1, Leader: hub.Guard(), OldEpoch: 2, NewPrimary: 1, DNS: dnsOps(t, w, &prev, 1, 3)},
			want: []error{ErrConflict}},
		{name: "lease the decision did not see",
			req:  PromoteRequest{Service: svc1, Leader: hub.Guard(), OldEpoch: 1, NewPrimary: 1, LeaseRevision: 1},
			want: []error{ErrConflict}},
		{name: "stale DNS primary",
			req:  PromoteRequest{Service: svc1, Leader: hub.Guard(), OldEpoch: 1, NewPrimary: 1, DNS: dnsOps(t, w, nil, 1, 2)},
			want: []error{ErrConflict, dnsserver.ErrConflict}},
		{name: "not the leader's tenure",
			req:  PromoteRequest{Service: svc1, Leader: LeaderGuard{Key: hub.Guard().Key, Rev: hub.Guard().Rev + 1}, OldEpoch: 1, NewPrimary: 1},
			want: []error{ErrFenced}},
		{name: "fenced wins over a stale epoch",
			req:  PromoteRequest{Service: svc1, Leader: LeaderGuard{Key: hub.Guard().Key + "x", Rev: hub.Guard().Rev}, OldEpoch: 0, NewPrimary: 1},
			want: []error{ErrFenced}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := dump(t, st)
			_, err := st.Promote(t.Context(), tc.req)
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("Promote = %v, want %v", err, want)
				}
			}
			if err := sameKVs(before, dump(t, st)); err != nil {
				t.Fatalf("a refused promotion wrote: %v", err)
			}
		})
	}
}

// TestPromoteByNonLeader: after Resign, and after another hub replica won
// the election, the old tenure can neither promote nor save state.
func TestPromoteByNonLeader(t *testing.T) {
	st := newStore(t)
	old := campaign(t, st, "hub-a")
	guard := old.Guard()
	if err := old.Resign(t.Context()); err != nil {
		t.Fatal(err)
	}
	req := PromoteRequest{Service: svc1, Leader: guard, NewPrimary: 1}
	before := dump(t, st)
	if _, err := st.Promote(t.Context(), req); !errors.Is(err, ErrFenced) {
		t.Fatalf("Promote after Resign: %v, want ErrFenced", err)
	}
	next := campaign(t, st, "hub-b")
	if _, err := st.Promote(t.Context(), req); !errors.Is(err, ErrFenced) {
		t.Fatalf("Promote with the old tenure after hub-b won: %v, want ErrFenced", err)
	}
	if err := st.SaveState(t.Context(), svc1, guard, []byte("stale")); !errors.Is(err, ErrFenced) {
		t.Fatalf("SaveState with the old tenure: %v, want ErrFenced", err)
	}
	// The same replica elected again is a new tenure: the old guard stays fenced.
	if err := next.Resign(t.Context()); err != nil {
		t.Fatal(err)
	}
	again := campaign(t, st, "hub-a")
	if _, err := st.Promote(t.Context(), req); !errors.Is(err, ErrFenced) {
		t.Fatalf("Promote with hub-a's first tenure during its second: %v, want ErrFenced", err)
	}
	after := dump(t, st)
	// Only election keys changed.
	if err := sameKVs(without(before, ElectionPrefix(st.Prefix())), without(after, ElectionPrefix(st.Prefix()))); err != nil {
		t.Fatalf("a fenced leader wrote: %v", err)
	}
	req.Leader = again.Guard()
	if _, err := st.Promote(t.Context(), req); err != nil {
		t.Fatalf("Promote with the current tenure: %v", err)
	}
}

// TestPromoteRace: 20 promoters race with the same old epoch; exactly one
// wins, the others get ErrConflict, and the epoch moved by one.
func TestPromoteRace(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	promoteFirst(t, st, hub, svc1, 0)
	w, _ := dnsWriter(t)
	prev := dnsserver.Primary{Ordinal: 0, Epoch: 1}
	dnsPrev, err := w.SetPrimary(svc1.Namespace, svc1.Name, nil, prev)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context(), st.Client(), dnsPrev); err != nil {
		t.Fatal(err)
	}

	const racers = 20
	start := make(chan struct{})
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		req := PromoteRequest{Service: svc1, Leader: hub.Guard(), OldEpoch: 1, NewPrimary: i + 1,
			FailoverState: fmt.Appendf(nil, "racer %d", i), DNS: dnsOps(t, w, &prev, i+1, 2)}
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, errs[i] = st.Promote(ctx, req)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, ErrConflict):
			t.Errorf("racer %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer won")
	}
	snap, err := st.Snapshot(t.Context(), svc1)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Epoch != 2 || snap.Primary.Replica != winner+1 || string(snap.FailoverState) != fmt.Sprintf("racer %d", winner) {
		t.Fatalf("after the race: epoch %d primary %+v state %q; want epoch 2 and racer %d's", snap.Epoch, snap.Primary, snap.FailoverState, winner)
	}
}

// without drops the keys under prefix from a dump.
func without(kvs []*mvccpb.KeyValue, prefix string) []*mvccpb.KeyValue {
	var out []*mvccpb.KeyValue
	for _, kv := range kvs {
		if len(kv.Key) < len(prefix) || string(kv.Key[:len(prefix)]) != prefix {
			out = append(out, kv)
		}
	}
	return out
}

// TestSaveState stores the state for the current tenure only.
func TestSaveState(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	for _, s := range []string{"one", "two"} {
		if err := st.SaveState(t.Context(), svc1, hub.Guard(), []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := st.Snapshot(t.Context(), svc1)
	if err != nil || string(snap.FailoverState) != "two" {
		t.Fatalf("state = %q, %v", snap.FailoverState, err)
	}
	if err := st.SaveState(t.Context(), svc1, LeaderGuard{}, []byte("x")); !errors.Is(err, ErrFenced) {
		t.Errorf("SaveState without a guard: %v, want ErrFenced", err)
	}
	if err := st.SaveState(t.Context(), svc1, hub.Guard(), make([]byte, MaxStateBytes+1)); err == nil {
		t.Error("SaveState accepted an oversized state")
	}
}
