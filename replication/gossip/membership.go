package gossip

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Join contacts the given host:port peers, or Config.Join without any,
// and syncs state with each reachable one. It returns how many answered;
// the error is nil if any did. It blocks for up to TCPTimeout per peer;
// if ctx ends first Join returns ctx's error and the attempt finishes in
// the background. A node that finds itself alone retries Config.Join by
// itself every ReconnectInterval.
func (p *Pool) Join(ctx context.Context, peers ...string) (int, error) {
	if p.shut.Load() {
		return 0, ErrShutdown
	}
	if len(peers) == 0 {
		peers = p.cfg.Join
	}
	if len(peers) == 0 {
		return 0, errors.New("gossip: join: no peers given and none configured")
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := p.ml.Join(peers)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.n, fmt.Errorf("gossip: join %v: %w", peers, r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("gossip: join %v: %w", peers, ctx.Err())
	}
}

// Leave tells the pool this node is leaving — first in its metadata, so
// the others record it Left rather than Dead, then with memberlist's
// leave message — and waits until both went out to another node, or
// until ctx's deadline (5 s without one). A timeout is reported, but the
// leave message is sent even if the metadata is late. The node keeps
// answering probes until Shutdown, which must follow.
func (p *Pool) Leave(ctx context.Context) error {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.shut.Load() {
		return ErrShutdown
	}
	deadline := time.Now().Add(timeoutOf(ctx))
	var errs []error
	if err := p.setMeta(func(m *Meta) { m.Leaving = true }, time.Until(deadline)); err != nil {
		errs = append(errs, fmt.Errorf("announce leaving: %w", err))
	}
	if err := p.ml.Leave(max(time.Until(deadline), time.Millisecond)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gossip: leave: %w", err)
	}
	return nil
}

// UpdatePayload replaces this node's payload and gossips the new
// metadata, waiting until it went out to another node or ctx's deadline
// (5 s without one). It fails with ErrMetaTooLarge if the metadata would
// not fit in MaxMetaSize bytes.
func (p *Pool) UpdatePayload(ctx context.Context, payload []byte) error {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.shut.Load() {
		return ErrShutdown
	}
	payload = append([]byte(nil), payload...)
	if err := p.setMeta(func(m *Meta) { m.Payload = payload }, timeoutOf(ctx)); err != nil {
		return fmt.Errorf("gossip: update payload: %w", err)
	}
	return nil
}

// setMeta changes the local metadata and gossips it.
func (p *Pool) setMeta(change func(*Meta), timeout time.Duration) error {
	p.metaMu.Lock()
	defer p.metaMu.Unlock()
	next := p.meta
	change(&next)
	b, err := next.Encode()
	if err != nil {
		return err
	}
	p.meta = next
	p.metaBytes.Store(&b)
	return p.ml.UpdateNode(timeout)
}

// defaultLeaveTimeout bounds Leave and UpdatePayload when their context
// has no deadline: a few gossip rounds to hand the news to another node.
const defaultLeaveTimeout = 5 * time.Second

// timeoutOf converts ctx's deadline to memberlist's timeout.
func timeoutOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return defaultLeaveTimeout
}
