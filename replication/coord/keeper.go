package coord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Why a keeper ends.
var (
	errLeaseGone    = errors.New("lease not found on the server (expired or revoked)")
	errUnrenewed    = errors.New("no renewal succeeded for a whole TTL; the lease may have expired")
	errReleased     = errors.New("released")
	errKeyChanged   = errors.New("lease key deleted or overwritten by another writer")
	errAbandoned    = errors.New("abandoned for a restart; a new run of the agent takes it over within the TTL")
	errClientClosed = errors.New("store closed; nothing renews the lease, which expires after its TTL")
)

// keeper holds one etcd lease and renews it itself, one KeepAliveOnce per
// RenewInterval, instead of through clientv3's KeepAlive stream (which
// concurrency.Session uses): that stream hides failed renewals until a
// whole TTL has passed, while a holder must know when the server last
// extended its lease to fence itself at half the TTL.
//
// The lease cannot expire on the server before lastRenewed + ttl, where
// lastRenewed is the time the last successful renewal was sent (the server
// extended the lease after that) and ttl the TTL the server granted.
type keeper struct {
	cli      *clientv3.Client
	id       clientv3.LeaseID
	interval time.Duration
	timeout  time.Duration

	mu          sync.Mutex
	lastRenewed time.Time
	ttl         time.Duration
	err         error

	done    chan struct{}
	stop    context.CancelFunc
	stopped chan struct{}
}

// grantLease grants a lease of ttl and starts renewing it. The caller must
// end it with release or lose.
func grantLease(ctx context.Context, cli *clientv3.Client, ttl, interval, timeout time.Duration) (*keeper, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sent := time.Now()
	resp, err := cli.Grant(rctx, int64(ttl/time.Second))
	if err != nil {
		return nil, fmt.Errorf("grant lease: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	k := &keeper{
		cli: cli, id: resp.ID, interval: interval, timeout: timeout,
		lastRenewed: sent, ttl: time.Duration(resp.TTL) * time.Second,
		done: make(chan struct{}), stop: stop, stopped: make(chan struct{}),
	}
	go k.run(runCtx)
	return k, nil
}

// adoptLease takes over renewing lease id, granted earlier (by a previous
// run of the same agent), and starts renewing it. It renews once first:
// ErrLeaseNotFound-wrapping errLeaseGone when the lease expired meanwhile.
func adoptLease(ctx context.Context, cli *clientv3.Client, id clientv3.LeaseID, interval, timeout time.Duration) (*keeper, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sent := time.Now()
	resp, err := cli.KeepAliveOnce(rctx, id)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return nil, errLeaseGone
	}
	if err != nil {
		return nil, fmt.Errorf("renew lease %x: %w", int64(id), err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	k := &keeper{
		cli: cli, id: id, interval: interval, timeout: timeout,
		lastRenewed: sent, ttl: time.Duration(resp.TTL) * time.Second,
		done: make(chan struct{}), stop: stop, stopped: make(chan struct{}),
	}
	go k.run(runCtx)
	return k, nil
}

// run renews the lease until it is lost or stopped.
func (k *keeper) run(ctx context.Context) {
	defer close(k.stopped)
	tick := time.NewTicker(k.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.cli.Ctx().Done():
			k.lose(errClientClosed)
			return
		case <-tick.C:
		}
		if err := k.renew(ctx); err != nil {
			k.lose(err)
			return
		}
	}
}

// renew sends one renewal; it returns an error only when the lease is lost
// for good.
func (k *keeper) renew(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	sent := time.Now()
	resp, err := k.cli.KeepAliveOnce(rctx, k.id)
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		return errLeaseGone
	case err == nil:
		k.mu.Lock()
		k.lastRenewed, k.ttl = sent, time.Duration(resp.TTL)*time.Second
		k.mu.Unlock()
		return nil
	case ctx.Err() != nil:
		return nil // stopped; the caller is releasing the lease
	}
	last, ttl := k.renewed()
	if time.Since(last) >= ttl {
		return errUnrenewed
	}
	return nil // retried at the next tick
}

// renewed returns the send time of the last successful renewal and the
// TTL the server granted then.
func (k *keeper) renewed() (time.Time, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lastRenewed, k.ttl
}

// lose ends the keeper with reason err (the first reason wins) and stops
// renewing.
func (k *keeper) lose(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return
	}
	k.err = err
	k.stop()
	close(k.done)
}

// reason returns why the keeper ended, or nil while it holds the lease.
func (k *keeper) reason() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// release stops renewing and revokes the lease, which deletes every key
// bound to it. When the revoke fails the lease expires after its TTL.
func (k *keeper) release(ctx context.Context) error {
	k.lose(errReleased)
	<-k.stopped
	rctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	if _, err := k.cli.Revoke(rctx, k.id); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("revoke lease %x: %w", int64(k.id), err)
	}
	return nil
}
