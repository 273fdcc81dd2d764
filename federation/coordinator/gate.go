package coordinator

import (
	"context"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
)

// DataGate is the FederatedStatefulSet controller's data gate
// (statefulset.DataGate) for services in PrimaryReplica mode, read from
// the federation etcd: a moved replica is started in its new cluster only
// while there is a primary to copy its data from, and its move is over only
// once its new cluster's agent reports it seeded in the current epoch.
// Services in other modes pass at once.
type DataGate struct {
	Store *coord.Store
}

// DataReady reports whether a committed primary other than ordinal holds
// its lease: the moved replica's agent can seed it from there. A moved
// primary waits for the failover its departure causes.
func (g DataGate) DataReady(ctx context.Context, fss *v1alpha1.FederatedStatefulSet, ordinal int, _, _ string) (bool, error) {
	if !primaryReplicas(fss) {
		return true, nil
	}
	snap, err := g.Store.Snapshot(ctx, coord.Service{Namespace: fss.Namespace, Name: fss.Name})
	if err != nil {
		return false, err
	}
	if snap.Primary == nil {
		return true, nil // no primary yet: the bootstrap seeds every replica
	}
	return snap.Primary.Replica != ordinal && snap.Lease != nil, nil
}

// Seeded reports whether the replica of ordinal reports from cluster to in
// the current epoch: its agent copied the data and follows the primary (or
// it is the primary).
func (g DataGate) Seeded(ctx context.Context, fss *v1alpha1.FederatedStatefulSet, ordinal int, to string) (bool, error) {
	if !primaryReplicas(fss) {
		return true, nil
	}
	snap, err := g.Store.Snapshot(ctx, coord.Service{Namespace: fss.Namespace, Name: fss.Name})
	if err != nil {
		return false, err
	}
	if snap.Primary == nil {
		return true, nil
	}
	r, ok := snap.Reports[ordinal]
	return ok && r.Cluster == to && r.Epoch == snap.Epoch && r.Role != coord.RoleFenced, nil
}
