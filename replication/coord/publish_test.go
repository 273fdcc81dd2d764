package coord

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/dnsserver"
)

// command is a command of kind to a replica of cluster eu-1 in epoch.
func command(kind CommandKind, epoch int64, primary int) Command {
	return Command{Kind: kind, Epoch: epoch, Primary: primary, Cluster: "eu-1", Issued: time.Now()}
}

// TestPutCommands: commands are written in the epoch they carry, replace
// earlier ones, show in the Snapshot, and are refused after the epoch
// moved or the tenure ended.
func TestPutCommands(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	w, _ := dnsWriter(t)
	ctx := t.Context()

	err := st.PutCommands(ctx, svc1, hub.Guard(), 1, map[int]Command{1: command(CommandSeed, 1, 0)})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("commands before any epoch: %v, want ErrConflict", err)
	}
	if _, err := st.Promote(ctx, PromoteRequest{Service: svc1, Leader: hub.Guard(), NewPrimary: 0, DNS: dnsOps(t, w, nil, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCommands(ctx, svc1, hub.Guard(), 1, map[int]Command{
		0: command(CommandInit, 1, 0), 1: command(CommandSeed, 1, 0), 2: command(CommandSeed, 1, 0),
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCommands(ctx, svc1, hub.Guard(), 1, map[int]Command{1: command(CommandFollow, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	snap, err := st.Snapshot(ctx, svc1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]CommandKind{0: CommandInit, 1: CommandFollow, 2: CommandSeed}
	if len(snap.Commands) != len(want) {
		t.Fatalf("snapshot commands %v, want %v", snap.Commands, want)
	}
	for n, k := range want {
		if snap.Commands[n].Kind != k || snap.Commands[n].Epoch != 1 {
			t.Errorf("command of %d: %+v, want %s in epoch 1", n, snap.Commands[n], k)
		}
	}

	if err := st.PutCommands(ctx, svc1, hub.Guard(), 1, map[int]Command{1: command(CommandPromote, 2, 1)}); err == nil {
		t.Error("a command of epoch 2 written in a batch of epoch 1")
	}
	before := without(dump(t, st), ElectionPrefix(st.Prefix()))
	if err := st.PutCommands(ctx, svc1, hub.Guard(), 2, map[int]Command{1: command(CommandPromote, 2, 1)}); !errors.Is(err, ErrConflict) {
		t.Errorf("commands of epoch 2 in epoch 1: %v, want ErrConflict", err)
	}
	if err := hub.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCommands(ctx, svc1, hub.Guard(), 1, map[int]Command{1: command(CommandFence, 1, 0)}); !errors.Is(err, ErrFenced) {
		t.Errorf("commands after the tenure: %v, want ErrFenced", err)
	}
	if err := sameKVs(before, without(dump(t, st), ElectionPrefix(st.Prefix()))); err != nil {
		t.Errorf("a refused batch wrote: %v", err)
	}
}

// TestPublishDNSAndForget: DNS records are written only during the
// tenure, and Forget removes a service's coordination keys and DNS
// records together.
func TestPublishDNSAndForget(t *testing.T) {
	st := newStore(t)
	hub := campaign(t, st, "hub")
	w, dnsPrefix := dnsWriter(t)
	ctx := t.Context()

	rep, err := w.PutReplica(svc1.Namespace, svc1.Name, 1, dnsserver.Replica{Cluster: "eu-2", Region: "eu",
		Addresses: []netip.Addr{netip.MustParseAddr("127.12.0.9")}, Role: dnsserver.RoleAsyncReplica, Ready: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PublishDNS(ctx, hub.Guard(), rep); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Promote(ctx, PromoteRequest{Service: svc1, Leader: hub.Guard(), NewPrimary: 0, DNS: dnsOps(t, w, nil, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	stale := dnsOps(t, w, nil, 2, 5) // guarded by "no primary record yet"
	if err := st.PublishDNS(ctx, hub.Guard(), stale); !errors.Is(err, ErrConflict) || !errors.Is(err, dnsserver.ErrConflict) {
		t.Errorf("DNS guard: %v, want ErrConflict and dnsserver.ErrConflict", err)
	}
	count := func(prefix string) int64 {
		t.Helper()
		resp, err := st.Client().Get(ctx, prefix, countOnly()...)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	if n := count(dnsPrefix); n != 3 {
		t.Fatalf("%d DNS keys, want replicas 0 and 1 and the primary", n)
	}
	del, err := w.DeleteService(svc1.Namespace, svc1.Name)
	if err != nil {
		t.Fatal(err)
	}
	other := Service{Namespace: "prod", Name: "db2"}
	if _, err := st.Promote(ctx, PromoteRequest{Service: other, Leader: hub.Guard(), NewPrimary: 0}); err != nil {
		t.Fatal(err)
	}
	if err := st.Forget(ctx, svc1, hub.Guard(), del); err != nil {
		t.Fatal(err)
	}
	if n := count(ServicePrefix(st.Prefix(), svc1)); n != 0 {
		t.Errorf("%d coordination keys of %s left", n, svc1)
	}
	if n := count(dnsPrefix); n != 0 {
		t.Errorf("%d DNS keys left", n)
	}
	if n := count(ServicePrefix(st.Prefix(), other)); n == 0 {
		t.Errorf("Forget of %s removed %s", svc1, other)
	}
	if err := hub.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.PublishDNS(ctx, hub.Guard(), rep); !errors.Is(err, ErrFenced) {
		t.Errorf("DNS after the tenure: %v, want ErrFenced", err)
	}
	if err := st.Forget(ctx, other, hub.Guard(), dnsserver.Ops{}); !errors.Is(err, ErrFenced) {
		t.Errorf("Forget after the tenure: %v, want ErrFenced", err)
	}
	resp, err := st.Client().Get(ctx, ServiceKey(other, KindEpoch).EtcdKey(st.Prefix()), clientv3.WithCountOnly())
	if err != nil || resp.Count != 1 {
		t.Errorf("epoch of %s after a fenced Forget: %v, %v", other, resp, err)
	}
}
