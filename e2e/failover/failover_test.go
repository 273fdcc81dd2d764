package failover

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// startService creates a PostgreSQL service, waits for its first primary
// and every replica to report, and creates the table the writers use.
func startService(t testing.TB, fss *v1alpha1.FederatedStatefulSet) *v1alpha1.FederatedStatefulSet {
	t.Helper()
	ctx := t.Context()
	if err := hubc.Create(ctx, fss); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hubc.Delete(context.Background(), fss) })
	var cur *v1alpha1.FederatedStatefulSet
	waitFor(t, 4*time.Minute, "a primary and every replica streaming", func() error {
		var err error
		if cur, err = getService(ctx, fss.Name); err != nil {
			return err
		}
		return steady(cur)
	})
	waitFor(t, time.Minute, "the table created through the DNS name of the primary", func() error {
		addr, err := lookupPrimary(fss.Name)
		if err != nil {
			return err
		}
		conn, err := connect(ctx, addr)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS rows (id int PRIMARY KEY)")
		return err
	})
	return cur
}

// steady reports why fss is not yet one primary and standbys for every
// other replica, at least one synchronous when the spec asks for it; nil
// when it is.
func steady(fss *v1alpha1.FederatedStatefulSet) error {
	if fss.Status.Primary == nil {
		return fmt.Errorf("%w: no primary; conditions %v", errNotYet, fss.Status.Conditions)
	}
	roles := map[v1alpha1.ReplicaRole]int{}
	for _, r := range fss.Status.ReplicaStatuses {
		roles[r.Role]++
	}
	if roles[v1alpha1.RolePrimary] != 1 || len(fss.Status.ReplicaStatuses) != int(fss.Spec.Replicas) ||
		roles[v1alpha1.RoleSyncStandby]+roles[v1alpha1.RoleAsyncReplica] != int(fss.Spec.Replicas)-1 {
		return fmt.Errorf("%w: roles %v", errNotYet, roles)
	}
	if fss.Spec.Replication.SyncReplicas > 0 && roles[v1alpha1.RoleSyncStandby] == 0 {
		return fmt.Errorf("%w: no synchronous standby yet: %v", errNotYet, roles)
	}
	return nil
}

// primaryAddr is the pod address of the service's primary in its status.
func primaryAddr(fss *v1alpha1.FederatedStatefulSet) netip.Addr {
	for _, r := range fss.Status.ReplicaStatuses {
		if fss.Status.Primary != nil && r.Ordinal == fss.Status.Primary.Ordinal {
			a, _ := netip.ParseAddr(r.PodIP)
			return a
		}
	}
	return netip.Addr{}
}

// TestRegionLossSync kills the region of the primary of a service with a
// synchronous standby in another region, while a client writes through DNS:
// another region's replica is promoted, DNS names it, every acknowledged
// write is there, no two replicas were ever writable at once; when the
// region returns, the old primary follows the new one with its writes.
func TestRegionLossSync(t *testing.T) {
	ctx := t.Context()
	fss := startService(t, postgresService("sync", 3, 1, "eu-west"))
	oldPrimary := *fss.Status.Primary
	oldAddr := primaryAddr(fss)
	addrs := replicaAddrs(ctx, fss.Name)

	wctx, stopWriting := context.WithCancel(ctx)
	defer stopWriting()
	w := &writer{service: fss.Name}
	go w.run(wctx)
	var wr localfed.Writability
	go wr.Watch(wctx, func() []netip.Addr { return addrs })
	waitFor(t, 30*time.Second, "rows acknowledged before the outage", func() error {
		if n := len(w.ackedRows()); n < 20 {
			return fmt.Errorf("%w: %d rows", errNotYet, n)
		}
		return nil
	})

	killed := time.Now()
	if err := bed.StopCluster(oldPrimary.Cluster); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed region of %s (primary %s-%d, epoch %d)", oldPrimary.Cluster, fss.Name, oldPrimary.Ordinal, oldPrimary.Epoch)
	ackedBefore := w.ackedRows()
	var promoted *v1alpha1.FederatedStatefulSet
	waitFor(t, 2*time.Minute, "a new primary in another region", func() error {
		cur, err := getService(ctx, fss.Name)
		if err != nil {
			return err
		}
		p := cur.Status.Primary
		if p == nil || p.Epoch <= oldPrimary.Epoch || p.Cluster == oldPrimary.Cluster {
			return fmt.Errorf("%w: primary %+v", errNotYet, p)
		}
		promoted = cur
		return nil
	})
	newAddr := primaryAddr(promoted)
	waitFor(t, time.Minute, "every region's DNS server names the new primary and a write succeeds through it", func() error {
		for _, server := range dnsAddrs {
			addr, err := localfed.LookupPrimary(server, namespace, fss.Name)
			if err != nil {
				return err
			}
			if addr != newAddr {
				return fmt.Errorf("%w: DNS server %s says %v, the new primary is %v", errNotYet, server, addr, newAddr)
			}
		}
		if n := len(w.ackedRows()); n <= len(ackedBefore) {
			return fmt.Errorf("%w: no write acknowledged since the outage", errNotYet)
		}
		return nil
	})
	t.Logf("epoch %d: %s-%d in %s; first write through DNS %v after the kill; history %+v",
		promoted.Status.Primary.Epoch, fss.Name, promoted.Status.Primary.Ordinal, promoted.Status.Primary.Cluster,
		time.Since(killed).Round(10*time.Millisecond), promoted.Status.FailoverHistory)

	have, err := rowsAt(ctx, newAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ackedBefore {
		if !have[id] {
			t.Errorf("row %d was acknowledged before the outage and is missing on the new primary", id)
		}
	}

	if err := bed.StartCluster(ctx, oldPrimary.Cluster); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "the old primary following the new one with the new rows", func() error {
		ok, err := isWritable(ctx, oldAddr)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("old primary %v is writable", oldAddr)
		}
		rows, err := rowsAt(ctx, oldAddr)
		if err != nil {
			return err
		}
		acked := w.ackedRows()
		if !rows[acked[len(acked)-1]] && !rows[acked[len(acked)-2]] {
			return fmt.Errorf("%w: the old primary lacks the latest rows", errNotYet)
		}
		return nil
	})
	stopWriting()
	samples, overlaps := wr.Result()
	if len(overlaps) > 0 {
		t.Errorf("two writable primaries at %d of %d samples: %v", len(overlaps), samples, overlaps)
	}
	cur, err := getService(ctx, fss.Name)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[v1alpha1.ReplicaRole][]int32{}
	for _, r := range cur.Status.ReplicaStatuses {
		roles[r.Role] = append(roles[r.Role], r.Ordinal)
	}
	if len(roles[v1alpha1.RolePrimary]) != 1 || !slices.Contains(roles[v1alpha1.RolePrimary], promoted.Status.Primary.Ordinal) {
		t.Errorf("roles after the return: %v; want only %d primary", roles, promoted.Status.Primary.Ordinal)
	}
	t.Logf("%d rows acknowledged, %d client errors, %d writability samples", len(w.ackedRows()), w.errs, samples)
}
