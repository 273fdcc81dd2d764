package coordinator_test

import (
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
)

// TestBootstrap: a new PrimaryReplica service gets its first primary in
// epoch 1 — the replica in the preferred primary region — committed with
// the DNS primary record in one transaction; the primary is told to Init
// and the others to Seed from it; once the fake agents carried that out
// the status names the primary, every replica's role and lag, and DNS
// publishes every replica.
func TestBootstrap(t *testing.T) {
	e := newEnv(t)
	f := startFleet(t, e, []uint64{0, 0, 0})
	e.startHub(t, "hub-a", nil)
	e.createService(spec{regions: []string{"us-east"}}) // db-1 runs in us-1

	eventually(t, timeout, "epoch 1 with db-1 committed", func() error {
		snap := e.snapshot()
		if snap.Epoch != 1 || snap.Primary == nil || snap.Primary.Replica != 1 {
			return fmt.Errorf("epoch %d, primary %+v", snap.Epoch, snap.Primary)
		}
		return nil
	})
	resp, err := e.store.Client().Get(t.Context(), coord.ServiceKey(f.svc, coord.KindEpoch).EtcdKey(e.coordPfx))
	if err != nil {
		t.Fatal(err)
	}
	p, rev := e.dnsPrimary()
	if p == nil || p.Ordinal != 1 || p.Epoch != 1 || rev != resp.Kvs[0].ModRevision {
		t.Errorf("DNS primary %+v at revision %d, want ordinal 1 epoch 1 at the epoch's revision %d", p, rev, resp.Kvs[0].ModRevision)
	}
	eventually(t, timeout, "commands: Init for db-1, Seed for the others", func() error {
		cmds := e.snapshot().Commands
		want := map[int]coord.CommandKind{0: coord.CommandSeed, 1: coord.CommandInit, 2: coord.CommandSeed}
		for n, k := range want {
			c, ok := cmds[n]
			if !ok || c.Kind != k || c.Epoch != 1 || c.Primary != 1 || c.Cluster != clusters[n].name {
				return fmt.Errorf("command of db-%d: %+v, want %s in epoch 1 from db-1 in %s", n, c, k, clusters[n].name)
			}
		}
		return nil
	})
	eventually(t, timeout, "status: primary, roles, lags, condition, history", func() error {
		st := e.get().Status
		if st.Primary == nil || st.Primary.Ordinal != 1 || st.Primary.Cluster != "us-1" || st.Primary.Epoch != 1 || st.Primary.Since == nil {
			return fmt.Errorf("primary %+v", st.Primary)
		}
		for _, rs := range st.ReplicaStatuses {
			want := v1alpha1.RoleAsyncReplica
			if rs.Ordinal == 1 {
				want = v1alpha1.RolePrimary
			}
			if rs.Role != want || (rs.Ordinal != 1 && rs.LagBytes == nil) {
				return fmt.Errorf("replica %d: role %s lag %v, want %s with a lag", rs.Ordinal, rs.Role, rs.LagBytes, want)
			}
		}
		c, err := failingOver(e.get())
		if err != nil || c.Status != "False" || c.Reason != "PrimaryHealthy" {
			return fmt.Errorf("condition %+v, %v", c, err)
		}
		h := st.FailoverHistory
		if len(h) != 1 || h[0].Reason != "Bootstrap" || h[0].Epoch != 1 || h[0].ToOrdinal != 1 || h[0].FromOrdinal != nil ||
			h[0].CommittedAt == nil || h[0].PromotedAt == nil || h[0].PublishedAt == nil {
			return fmt.Errorf("history %+v", h)
		}
		return nil
	})
	eventually(t, timeout, "DNS records of every replica", func() error {
		for n := range clusters {
			key := dnsserver.Key{Namespace: e.ns, Service: "db", Kind: dnsserver.KindReplica, Ordinal: n}.EtcdKey(e.dnsPfx)
			resp, err := e.store.Client().Get(t.Context(), key)
			if err != nil || len(resp.Kvs) != 1 {
				return fmt.Errorf("record of db-%d: %v %v", n, resp, err)
			}
			r, err := dnsserver.DecodeReplica(resp.Kvs[0].Value)
			if err != nil || r.Cluster != clusters[n].name || r.Region != clusters[n].region || !r.Ready || len(r.Addresses) != 1 ||
				r.Role != dnsserver.RoleAsyncReplica {
				return fmt.Errorf("record of db-%d: %+v, %v", n, r, err)
			}
		}
		return nil
	})
	if got := f.primaries(); len(got) != 1 || got[0] != 1 {
		t.Errorf("writable primaries %v, want db-1", got)
	}
	f.noSplitBrain()

	// A replica added later is told to seed itself from the primary.
	e.update(func(fss *v1alpha1.FederatedStatefulSet) { fss.Spec.Replicas = 4 }, func(fss *v1alpha1.FederatedStatefulSet) {
		fss.Status.ReplicaStatuses = append(fss.Status.ReplicaStatuses, v1alpha1.ReplicaStatus{Ordinal: 3, Cluster: "ap-1", PodIP: "127.13.0.3"})
	})
	eventually(t, timeout, "Seed for the new db-3", func() error {
		if c, ok := e.snapshot().Commands[3]; !ok || c.Kind != coord.CommandSeed || c.Primary != 1 || c.Epoch != 1 || c.Cluster != "ap-1" {
			return fmt.Errorf("command of db-3: %+v", c)
		}
		return nil
	})

	// Deleting the service removes its coordination keys and DNS records.
	// The simulated agents stop first: real ones stop reporting a replica
	// whose pod is gone, these would write its report again.
	f.stop()
	for _, a := range f.agents {
		if err := a.session.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := hubc.Delete(t.Context(), e.get()); err != nil {
		t.Fatal(err)
	}
	eventually(t, timeout, "coordination keys and DNS records removed", func() error {
		for _, prefix := range []string{coord.ServicePrefix(e.coordPfx, f.svc), dnsserver.ServicePrefix(e.dnsPfx, e.ns, "db")} {
			resp, err := e.store.Client().Get(t.Context(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				return err
			}
			if resp.Count != 0 {
				return fmt.Errorf("%d keys under %s", resp.Count, prefix)
			}
		}
		return nil
	})
}

// TestPlainDNS: a service without a primary (replication Native) gets its
// DNS records, every replica an asynchronous replica, and no primary.
func TestPlainDNS(t *testing.T) {
	e := newEnv(t)
	e.startHub(t, "hub-a", nil)
	e.createService(spec{native: true})
	eventually(t, timeout, "DNS records of a Native service", func() error {
		resp, err := e.store.Client().Get(t.Context(), dnsserver.ServicePrefix(e.dnsPfx, e.ns, "db"), clientv3.WithPrefix())
		if err != nil {
			return err
		}
		if len(resp.Kvs) != 4 {
			return fmt.Errorf("%d records, want the service and three replicas", len(resp.Kvs))
		}
		for _, kv := range resp.Kvs {
			k, err := dnsserver.ParseEtcdKey(e.dnsPfx, string(kv.Key))
			if err != nil || k.Kind == dnsserver.KindPrimary {
				return fmt.Errorf("record %s: %v", kv.Key, err)
			}
			if k.Kind != dnsserver.KindReplica {
				continue
			}
			if r, err := dnsserver.DecodeReplica(kv.Value); err != nil || r.Role != dnsserver.RoleAsyncReplica {
				return fmt.Errorf("record %s: %+v %v", kv.Key, r, err)
			}
		}
		return nil
	})
}
