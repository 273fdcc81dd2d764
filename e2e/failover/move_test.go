package failover

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// setTaints replaces the taints of member cluster name.
func setTaints(ctx context.Context, name string, taints []v1alpha1.Taint) error {
	var mc v1alpha1.MemberCluster
	if err := hubc.Get(ctx, client.ObjectKey{Name: name}, &mc); err != nil {
		return err
	}
	patch := client.MergeFrom(mc.DeepCopy())
	mc.Spec.Taints = taints
	return hubc.Patch(ctx, &mc, patch)
}

// TestMoveSeedsReplica evacuates the cluster of a standby (NoExecute
// taint): the hub moves its ordinal to another cluster, whose agent seeds
// it from the primary with a base backup; the move ends once the replica
// reports there, holding every row, and the primary never changed.
func TestMoveSeedsReplica(t *testing.T) {
	ctx := t.Context()
	fss := startService(t, postgresService("move", 3, 1, "eu-west"))
	old := *fss.Status.Primary
	var victim v1alpha1.ReplicaStatus
	for _, r := range fss.Status.ReplicaStatuses {
		if r.Cluster != old.Cluster {
			victim = r
			break
		}
	}
	w := &writer{service: fss.Name}
	for range 10 {
		if err := w.write(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := setTaints(ctx, victim.Cluster, []v1alpha1.Taint{{Key: "maintenance", Effect: v1alpha1.TaintNoExecute}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = setTaints(context.Background(), victim.Cluster, nil) })
	tainted := time.Now()
	var moved v1alpha1.ReplicaStatus
	sawSeeding := false
	waitFor(t, 3*time.Minute, "the ordinal moved, seeded and the move over", func() error {
		cur, err := getService(ctx, fss.Name)
		if err != nil {
			return err
		}
		for _, r := range cur.Status.ReplicaStatuses {
			if r.Ordinal == victim.Ordinal {
				moved = r
			}
		}
		for _, mv := range cur.Status.Moves {
			if mv.Ordinal == victim.Ordinal && moved.Cluster == mv.To && moved.Ready {
				sawSeeding = true // its pod runs there; the move waits for the data
			}
		}
		if moved.Cluster == victim.Cluster || len(cur.Status.Moves) > 0 {
			return fmt.Errorf("%w: replica %+v, moves %+v", errNotYet, moved, cur.Status.Moves)
		}
		if moved.Role != v1alpha1.RoleSyncStandby && moved.Role != v1alpha1.RoleAsyncReplica {
			return fmt.Errorf("%w: moved replica's role %s", errNotYet, moved.Role)
		}
		if p := cur.Status.Primary; p == nil || p.Epoch != old.Epoch || p.Ordinal != old.Ordinal {
			return fmt.Errorf("primary changed during the move: %+v", p)
		}
		return nil
	})
	t.Logf("%s-%d moved from %s to %s and seeded %v after the taint (move seen waiting for data: %v)",
		fss.Name, victim.Ordinal, victim.Cluster, moved.Cluster, time.Since(tainted).Round(10*time.Millisecond), sawSeeding)
	addr, err := netip.ParseAddr(moved.PodIP)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "every row on the moved replica", func() error {
		rows, err := rowsAt(ctx, addr)
		if err != nil {
			return err
		}
		for _, id := range w.ackedRows() {
			if !rows[id] {
				return fmt.Errorf("%w: row %d missing", errNotYet, id)
			}
		}
		return nil
	})
}
