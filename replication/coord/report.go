package coord

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Report publishes what the agent observed of replica of svc, replacing
// the replica's previous report. The key is bound to the agent's session
// lease, so the write fails on the server once the session's lease is gone
// and the report disappears when the agent stops renewing. r.Agent and
// r.Cluster are filled in from the Agent. It returns ErrSessionEnded after
// the session ended; it never writes once Done is closed.
func (a *Agent) Report(ctx context.Context, svc Service, replica int, r Report) error {
	if err := a.alive(); err != nil {
		return err
	}
	r.Agent, r.Cluster = a.name, a.cluster
	key := ReportKey(svc, replica)
	if err := key.Validate(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	val, err := encode(r)
	if err != nil {
		return fmt.Errorf("report of %s replica %d: %w", svc, replica, err)
	}
	rctx, cancel := a.store.requestCtx(ctx)
	defer cancel()
	_, err = a.store.cli.Put(rctx, a.store.key(key), val, clientv3.WithLease(a.k.id))
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		a.k.lose(errLeaseGone)
		return a.Err()
	}
	if err != nil {
		return fmt.Errorf("report of %s replica %d: %w", svc, replica, err)
	}
	return nil
}

// Withdraw deletes the report of replica of svc if this agent's session
// wrote it: the replica no longer runs in the agent's cluster (its ordinal
// moved, or the service shrank), so its last position must not be taken
// for the data of the replica's next home.
func (a *Agent) Withdraw(ctx context.Context, svc Service, replica int) error {
	if err := a.alive(); err != nil {
		return err
	}
	key := a.store.key(ReportKey(svc, replica))
	rctx, cancel := a.store.requestCtx(ctx)
	defer cancel()
	_, err := a.store.cli.Txn(rctx).
		If(clientv3.Compare(clientv3.LeaseValue(key), "=", a.k.id)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return fmt.Errorf("withdraw the report of %s replica %d: %w", svc, replica, err)
	}
	return nil
}
