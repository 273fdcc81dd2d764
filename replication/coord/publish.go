package coord

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/dnsserver"
)

// PutCommands writes the commands of svc's replicas (by ordinal) in one
// transaction, replacing each replica's previous command. It compares the
// leader's tenure and that the stored epoch is epoch, which every command
// must carry: a command is only written in the epoch it is valid for. It
// returns ErrFenced when the tenure is over and ErrConflict when the epoch
// moved; nothing is written then.
func (s *Store) PutCommands(ctx context.Context, svc Service, guard LeaderGuard, epoch int64, cmds map[int]Command) error {
	errs := []error{svc.Validate(), guard.validate(), validateEpoch(epoch)}
	var puts []clientv3.Op
	for _, n := range slices.Sorted(maps.Keys(cmds)) {
		c := cmds[n]
		key := CommandKey(svc, n)
		val, err := encode(c)
		errs = append(errs, key.Validate(), err)
		if c.Epoch != epoch {
			errs = append(errs, fmt.Errorf("command %s to replica %d in epoch %d, not %d", c.Kind, n, c.Epoch, epoch))
		}
		puts = append(puts, clientv3.OpPut(s.key(key), val))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("commands in %s: %w", svc, err)
	}
	if len(puts) == 0 {
		return nil
	}
	epochKey := s.key(ServiceKey(svc, KindEpoch))
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Txn(rctx).
		If(guard.cmp(), epochCmp(epochKey, epoch)).
		Then(puts...).
		Else(clientv3.OpGet(guard.Key), clientv3.OpGet(epochKey)).
		Commit()
	if err != nil {
		return fmt.Errorf("commands in %s: %w", svc, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("commands in %s epoch %d: %w", svc, epoch, guardRefused(guard, resp))
	}
	return nil
}

// PublishDNS applies DNS record changes (replica and service records)
// while guard's tenure is current, in one transaction with the leader
// compare and the Ops' own guards. It returns ErrFenced when the tenure is
// over and ErrConflict (matching dnsserver.ErrConflict too) when a DNS
// guard failed. The primary record changes only in Promote.
func (s *Store) PublishDNS(ctx context.Context, guard LeaderGuard, ops dnsserver.Ops) error {
	if err := guard.validate(); err != nil {
		return fmt.Errorf("publish DNS records: %w", err)
	}
	if len(ops.Then) == 0 {
		return nil
	}
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Txn(rctx).
		If(append([]clientv3.Cmp{guard.cmp()}, ops.If...)...).
		Then(ops.Then...).
		Else(clientv3.OpGet(guard.Key)).
		Commit()
	if err != nil {
		return fmt.Errorf("publish DNS records: %w", err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("publish DNS records: %w", guardRefused(guard, resp))
	}
	return nil
}

// Forget deletes every coordination key of svc (epoch, primary, failover
// state, lease, reports, commands) and applies dns (typically
// dnsserver.Writer.DeleteService) in one transaction, while guard's tenure
// is current. Call it only once the service is gone for good: a service
// created again under the same name starts from epoch 0. A deleted lease
// key ends its holder's PrimaryLease.
func (s *Store) Forget(ctx context.Context, svc Service, guard LeaderGuard, dns dnsserver.Ops) error {
	if err := errors.Join(svc.Validate(), guard.validate()); err != nil {
		return fmt.Errorf("forget %s: %w", svc, err)
	}
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	del := clientv3.OpDelete(ServicePrefix(s.cfg.Prefix, svc), clientv3.WithPrefix())
	resp, err := s.cli.Txn(rctx).
		If(append([]clientv3.Cmp{guard.cmp()}, dns.If...)...).
		Then(append([]clientv3.Op{del}, dns.Then...)...).
		Else(clientv3.OpGet(guard.Key)).
		Commit()
	if err != nil {
		return fmt.Errorf("forget %s: %w", svc, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("forget %s: %w", svc, guardRefused(guard, resp))
	}
	return nil
}

// guardRefused names the guard that failed from the Else reads, the first
// of which is the leader's election key: ErrFenced when the tenure is
// over, else ErrConflict.
func guardRefused(guard LeaderGuard, resp *clientv3.TxnResponse) error {
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) == 0 || kvs[0].CreateRevision != guard.Rev {
		return fmt.Errorf("%w: leader tenure %s@%d is over", ErrFenced, guard.Key, guard.Rev)
	}
	if len(resp.Responses) > 1 {
		if kvs := resp.Responses[1].GetResponseRange().GetKvs(); len(kvs) > 0 {
			return fmt.Errorf("%w: epoch is %s", ErrConflict, kvs[0].Value)
		}
		return fmt.Errorf("%w: no epoch stored", ErrConflict)
	}
	return fmt.Errorf("%w: %w", ErrConflict, dnsserver.ErrConflict)
}
