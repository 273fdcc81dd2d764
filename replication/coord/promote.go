package coord

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/dnsserver"
)

// PromoteRequest is one promotion, decided by the hub leader on a Snapshot.
type PromoteRequest struct {
	// Service to promote in.
	Service Service
	// Leader is the deciding leader's tenure (Leader.Guard).
	Leader LeaderGuard
	// OldEpoch is the epoch the decision was made in (Snapshot.Epoch); 0
	// when the service never had a primary.
	OldEpoch int64
	// NewPrimary is the ordinal of the replica to promote.
	NewPrimary int
	// LeaseRevision is the ModRevision of the primary lease key the
	// decision saw (Snapshot.Lease.Revision), 0 when there was no lease.
	// With the default 0 the promotion happens only while nobody holds the
	// primary lease. A forced promotion names the live lease it takes over
	// and ends it; the old holder learns that through its watch, so force
	// only when the old primary is known to be fenced.
	LeaseRevision int64
	// FailoverState is the failover state machine's state to store with
	// the promotion (at most MaxStateBytes).
	FailoverState []byte
	// DNS are the DNS record changes that belong to the promotion (built
	// with dnsserver.Writer.SetPrimary and PutReplica); their guards and
	// writes join the transaction.
	DNS dnsserver.Ops
}

// PromoteResult is the outcome of a committed promotion.
type PromoteResult struct {
	// Epoch is the new epoch, OldEpoch+1.
	Epoch int64
	// Revision is the etcd revision of the transaction.
	Revision int64
}

// Promote commits a promotion in ONE etcd transaction. It compares that
// the leader's tenure is current, that the epoch is still OldEpoch, that
// the primary lease key is as the decision saw it, and the DNS guards;
// then it puts epoch OldEpoch+1, the new Primary and the failover state,
// deletes the primary lease key (ending the old holder's PrimaryLease), and
// applies the DNS writes. When a guard fails nothing is written and it
// returns ErrFenced (the tenure is over) or ErrConflict (the epoch, the
// lease or a DNS record changed; the error then also matches
// dnsserver.ErrConflict if only a DNS guard failed).
func (s *Store) Promote(ctx context.Context, req PromoteRequest) (PromoteResult, error) {
	next := req.OldEpoch + 1
	primary, err := encode(Primary{Replica: req.NewPrimary, Epoch: next})
	errs := []error{err, req.Service.Validate(), req.Leader.validate(), validateState(req.FailoverState)}
	if req.OldEpoch < 0 {
		errs = append(errs, fmt.Errorf("old epoch %d: must not be negative", req.OldEpoch))
	}
	if req.LeaseRevision < 0 {
		errs = append(errs, fmt.Errorf("lease revision %d: must not be negative", req.LeaseRevision))
	}
	if err := errors.Join(errs...); err != nil {
		return PromoteResult{}, fmt.Errorf("promote in %s: %w", req.Service, err)
	}
	epochKey := s.key(ServiceKey(req.Service, KindEpoch))
	leaseKey := s.key(ServiceKey(req.Service, KindLease))
	guards := []clientv3.Cmp{
		req.Leader.cmp(),
		epochCmp(epochKey, req.OldEpoch),
		clientv3.Compare(clientv3.ModRevision(leaseKey), "=", req.LeaseRevision),
	}
	writes := []clientv3.Op{
		clientv3.OpPut(epochKey, formatEpoch(next)),
		clientv3.OpPut(s.key(ServiceKey(req.Service, KindPrimary)), primary),
		clientv3.OpPut(s.key(ServiceKey(req.Service, KindFailoverState)), string(req.FailoverState)),
		clientv3.OpDelete(leaseKey),
	}
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Txn(rctx).
		If(append(guards, req.DNS.If...)...).
		Then(append(writes, req.DNS.Then...)...).
		Else(clientv3.OpGet(req.Leader.Key), clientv3.OpGet(epochKey), clientv3.OpGet(leaseKey)).
		Commit()
	if err != nil {
		return PromoteResult{}, fmt.Errorf("promote replica %d of %s to epoch %d: %w", req.NewPrimary, req.Service, next, err)
	}
	if !resp.Succeeded {
		return PromoteResult{}, fmt.Errorf("promote replica %d of %s to epoch %d: %w",
			req.NewPrimary, req.Service, next, promoteRefused(req, resp))
	}
	return PromoteResult{Epoch: next, Revision: resp.Header.Revision}, nil
}

// epochCmp compares the stored epoch with e; epoch 0 means no epoch key.
func epochCmp(key string, e int64) clientv3.Cmp {
	if e == 0 {
		return clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	}
	return clientv3.Compare(clientv3.Value(key), "=", formatEpoch(e))
}

// promoteRefused names the guard that failed from the Else reads of the
// leader, epoch and lease keys.
func promoteRefused(req PromoteRequest, resp *clientv3.TxnResponse) error {
	kv := func(i int) ([]byte, int64, int64, bool) {
		kvs := resp.Responses[i].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			return nil, 0, 0, false
		}
		return kvs[0].Value, kvs[0].CreateRevision, kvs[0].ModRevision, true
	}
	if _, created, _, _ := kv(0); created != req.Leader.Rev {
		return fmt.Errorf("%w: leader tenure %s@%d is over", ErrFenced, req.Leader.Key, req.Leader.Rev)
	}
	if v, _, _, ok := kv(1); (req.OldEpoch == 0 && ok) || (req.OldEpoch != 0 && string(v) != formatEpoch(req.OldEpoch)) {
		return fmt.Errorf("%w: epoch is %q, not %d", ErrConflict, v, req.OldEpoch)
	}
	if _, _, mod, _ := kv(2); mod != req.LeaseRevision {
		return fmt.Errorf("%w: primary lease at revision %d, not %d", ErrConflict, mod, req.LeaseRevision)
	}
	return fmt.Errorf("%w: %w", ErrConflict, dnsserver.ErrConflict)
}

// SaveState stores the failover state machine's state of svc while guard's
// tenure is current, in one transaction with the leader compare. It
// returns ErrFenced, and writes nothing, once the tenure is over.
func (s *Store) SaveState(ctx context.Context, svc Service, guard LeaderGuard, state []byte) error {
	if err := errors.Join(svc.Validate(), guard.validate(), validateState(state)); err != nil {
		return fmt.Errorf("save failover state of %s: %w", svc, err)
	}
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Txn(rctx).
		If(guard.cmp()).
		Then(clientv3.OpPut(s.key(ServiceKey(svc, KindFailoverState)), string(state))).
		Commit()
	if err != nil {
		return fmt.Errorf("save failover state of %s: %w", svc, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("save failover state of %s: %w: leader tenure %s@%d is over", svc, ErrFenced, guard.Key, guard.Rev)
	}
	return nil
}

func validateState(b []byte) error {
	if len(b) > MaxStateBytes {
		return fmt.Errorf("failover state of %d bytes: at most %d", len(b), MaxStateBytes)
	}
	return nil
}
