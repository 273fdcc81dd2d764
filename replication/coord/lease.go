package coord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// PrimaryLease is the primary lease of one service, held by an agent for
// the replica promoted in its epoch. It has its own etcd lease, renewed
// every Config.RenewInterval. The holder must keep the replica writable
// only while
//
//	time.Now().Before(l.WritableUntil()) // LastRenewed() + TTL()/2
//
// and fence it (read-only, clients cut) as soon as that fails or Done
// closes: the hub promotes another replica only after the lease expired on
// the server, which is never before LastRenewed()+TTL(). Its methods are
// safe for concurrent use.
type PrimaryLease struct {
	agent  *Agent
	svc    Service
	holder Holder
	key    string
	rev    int64
	k      *keeper
}

// HoldPrimary takes the primary lease of svc for replica in epoch. In one
// transaction it checks that the stored epoch is epoch, that the stored
// primary is replica in epoch and that no lease is held, and puts the
// lease key bound to a new etcd lease of Config.LeaseTTL. It returns
// ErrFenced when the epoch or primary differ (the replica must stay
// fenced) and ErrConflict when another holder's lease is still alive.
//
// A live lease this agent took for the same replica and epoch in an
// earlier run (it restarted within the TTL) is taken over instead: the
// same etcd lease is renewed from now on and the key stays as it is.
func (a *Agent) HoldPrimary(ctx context.Context, svc Service, replica int, epoch int64) (*PrimaryLease, error) {
	if err := a.alive(); err != nil {
		return nil, err
	}
	s := a.store
	h := Holder{Replica: replica, Epoch: epoch, Agent: a.name}
	val, err := encode(h)
	if err != nil {
		return nil, fmt.Errorf("primary lease of %s: %w", svc, err)
	}
	if err := svc.Validate(); err != nil {
		return nil, fmt.Errorf("primary lease: %w", err)
	}
	primary, err := encode(Primary{Replica: replica, Epoch: epoch})
	if err != nil {
		return nil, err
	}
	k, err := grantLease(ctx, s.cli, s.cfg.LeaseTTL, s.cfg.RenewInterval, s.cfg.RequestTimeout)
	if err != nil {
		return nil, fmt.Errorf("primary lease of %s: %w", svc, err)
	}
	epochKey, primaryKey := s.key(ServiceKey(svc, KindEpoch)), s.key(ServiceKey(svc, KindPrimary))
	leaseKey := s.key(ServiceKey(svc, KindLease))
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Txn(rctx).
		If(
			clientv3.Compare(clientv3.Value(epochKey), "=", formatEpoch(epoch)),
			clientv3.Compare(clientv3.Value(primaryKey), "=", primary),
			clientv3.Compare(clientv3.CreateRevision(leaseKey), "=", 0),
		).
		Then(clientv3.OpPut(leaseKey, val, clientv3.WithLease(k.id))).
		Else(clientv3.OpGet(epochKey), clientv3.OpGet(primaryKey), clientv3.OpGet(leaseKey)).
		Commit()
	rev := int64(0)
	if err == nil {
		rev = resp.Header.Revision
	}
	if err == nil && !resp.Succeeded {
		_ = k.release(ctx)
		err = holdRefused(svc, epochKey, primaryKey, epoch, primary, resp)
		if errors.Is(err, ErrConflict) {
			k, rev, err = a.takeOverPrimary(ctx, svc, h, resp.Responses[2].GetResponseRange().GetKvs())
		}
		if err != nil {
			return nil, fmt.Errorf("primary lease of %s: %w", svc, err)
		}
	}
	if err != nil {
		_ = k.release(ctx) // nothing is bound to it; it expires if this fails
		return nil, fmt.Errorf("primary lease of %s: %w", svc, err)
	}
	l := &PrimaryLease{agent: a, svc: svc, holder: h, key: leaseKey, rev: rev, k: k}
	go l.watchKey()
	a.mu.Lock()
	a.holds[l] = struct{}{}
	a.mu.Unlock()
	return l, nil
}

// takeOverPrimary renews the live lease in kvs (the lease key as the
// refused transaction read it) when it is h's: this agent took it in an
// earlier run. It returns the keeper and the key's revision, or ErrConflict.
func (a *Agent) takeOverPrimary(ctx context.Context, svc Service, h Holder, kvs []*mvccpb.KeyValue) (*keeper, int64, error) {
	held := fmt.Errorf("%w: the primary lease of %s is held", ErrConflict, svc)
	if len(kvs) == 0 || kvs[0].Lease == 0 {
		return nil, 0, held // released since; the caller may try again
	}
	old, err := DecodeHolder(kvs[0].Value)
	if err != nil || old != h {
		return nil, 0, fmt.Errorf("%w by agent %s for replica %d in epoch %d", held, old.Agent, old.Replica, old.Epoch)
	}
	s := a.store
	k, err := adoptLease(ctx, s.cli, clientv3.LeaseID(kvs[0].Lease), s.cfg.RenewInterval, s.cfg.RequestTimeout)
	if errors.Is(err, errLeaseGone) {
		return nil, 0, held // expired meanwhile: the hub may act on it now
	}
	if err != nil {
		return nil, 0, fmt.Errorf("take over the primary lease of %s: %w", svc, err)
	}
	return k, kvs[0].ModRevision, nil
}

// holdRefused explains a failed HoldPrimary transaction from its Else reads.
func holdRefused(svc Service, epochKey, primaryKey string, epoch int64, primary string, resp *clientv3.TxnResponse) error {
	got := func(i int) string {
		kvs := resp.Responses[i].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			return "<none>"
		}
		return string(kvs[0].Value)
	}
	if e := got(0); e != formatEpoch(epoch) {
		return fmt.Errorf("%w: epoch of %s is %s, not %d", ErrFenced, svc, e, epoch)
	}
	if p := got(1); p != primary {
		return fmt.Errorf("%w: primary of %s is %s, not %s", ErrFenced, svc, p, primary)
	}
	return fmt.Errorf("%w: the primary lease of %s is held", ErrConflict, svc)
}

// watchKey ends the lease as soon as its key is deleted or overwritten: a
// promotion deletes it in the transaction that bumps the epoch.
func (l *PrimaryLease) watchKey() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.k.done:
		case <-l.agent.store.cli.Ctx().Done():
		}
		cancel()
	}()
	rev := l.rev + 1
	for ctx.Err() == nil {
		for resp := range l.agent.store.cli.Watch(clientv3.WithRequireLeader(ctx), l.key, clientv3.WithRev(rev)) {
			if len(resp.Events) > 0 {
				l.k.lose(errKeyChanged)
				return
			}
			if resp.Err() != nil {
				break
			}
			rev = resp.Header.Revision + 1
		}
		if ctx.Err() == nil && !l.stillOurs(ctx, &rev) {
			l.k.lose(errKeyChanged)
			return
		}
		select { // a broken watch is retried at the renewal pace
		case <-ctx.Done():
		case <-time.After(l.agent.store.cfg.RenewInterval):
		}
	}
}

// stillOurs re-reads the lease key after a broken watch (for example a
// compaction during a partition); it sets rev to resume from.
func (l *PrimaryLease) stillOurs(ctx context.Context, rev *int64) bool {
	rctx, cancel := l.agent.store.requestCtx(ctx)
	defer cancel()
	resp, err := l.agent.store.cli.Get(rctx, l.key)
	if err != nil {
		return true // unknown; the keeper fences on lost renewals meanwhile
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].ModRevision != l.rev {
		return false
	}
	*rev = resp.Header.Revision + 1
	return true
}

// Done is closed when the lease is no longer held: released, revoked,
// expired, not renewed for a whole TTL, or its key deleted or taken by a
// promotion. The holder must fence the replica at once.
func (l *PrimaryLease) Done() <-chan struct{} { return l.k.done }

// Err returns nil while the lease is held, then why it ended, wrapping
// ErrLeaseLost.
func (l *PrimaryLease) Err() error {
	if err := l.k.reason(); err != nil {
		return fmt.Errorf("%w: %w", ErrLeaseLost, err)
	}
	return nil
}

// LastRenewed returns when the last successful renewal was sent (the grant
// at first). The lease cannot expire on the server before
// LastRenewed()+TTL().
func (l *PrimaryLease) LastRenewed() time.Time { t, _ := l.k.renewed(); return t }

// WritableUntil returns LastRenewed()+TTL()/2: the holder must have fenced
// the replica by then unless a later renewal moves the bound. Re-read it
// after each wait; it only moves forward while the lease is held.
func (l *PrimaryLease) WritableUntil() time.Time {
	t, ttl := l.k.renewed()
	return t.Add(ttl / 2)
}

// TTL returns the lease's TTL as the server last granted it; it may exceed
// Config.LeaseTTL when etcd's election timeout imposes a longer minimum.
func (l *PrimaryLease) TTL() time.Duration { _, ttl := l.k.renewed(); return ttl }

// Holder returns what the lease key says.
func (l *PrimaryLease) Holder() Holder { return l.holder }

// Lease returns the etcd lease the key is bound to.
func (l *PrimaryLease) Lease() clientv3.LeaseID { return l.k.id }

// Release gives the lease up, on demotion: it stops renewing and revokes
// the etcd lease, which deletes the lease key. Call it only after the
// replica stopped accepting writes. When etcd is unreachable the lease
// expires after its TTL instead.
func (l *PrimaryLease) Release(ctx context.Context) error {
	l.agent.mu.Lock()
	delete(l.agent.holds, l)
	l.agent.mu.Unlock()
	if err := l.k.release(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("release primary lease of %s: %w", l.svc, err)
	}
	return nil
}

// Abandoned reports whether the lease ended because its agent abandoned it
// for a restart (Agent.Abandon): it is still alive on the server, for the
// next run to take over.
func (l *PrimaryLease) Abandoned() bool { return errors.Is(l.k.reason(), errAbandoned) }
