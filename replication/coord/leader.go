package coord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// LeaderGuard identifies one tenure of the hub leadership: the leader's
// election key and its create revision. Coordinator writes compare
// CreateRevision(Key) == Rev in their transaction, so they fail with
// ErrFenced once the tenure is over (resigned, session expired), even if
// the same hub replica was elected again since.
type LeaderGuard struct {
	// Key is the leader's election key.
	Key string
	// Rev is the create revision of Key.
	Rev int64
}

// cmp is the fencing compare of the guard.
func (g LeaderGuard) cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(g.Key), "=", g.Rev)
}

// validate rejects the zero guard, which would compare a missing key.
func (g LeaderGuard) validate() error {
	if g.Key == "" || g.Rev <= 0 {
		return fmt.Errorf("%w: no leader guard", ErrFenced)
	}
	return nil
}

// Leader is one tenure of the hub leadership, won by Campaign. It is
// backed by a concurrency.Session of Config.LeaderTTL. Its methods are safe
// for concurrent use.
type Leader struct {
	store    *Store
	id       string
	session  *concurrency.Session
	election *concurrency.Election
}

// Campaign blocks until the hub replica id becomes leader, or ctx is done.
// Only one hub replica is leader at a time; a leader whose session expires
// loses the leadership and its guard fails from then on.
func (s *Store) Campaign(ctx context.Context, id string) (*Leader, error) {
	if id == "" {
		return nil, errors.New("campaign: empty id")
	}
	rctx, cancel := s.requestCtx(ctx)
	grant, err := s.cli.Grant(rctx, int64(s.cfg.LeaderTTL/time.Second))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("leader session: %w", err)
	}
	// The session renews the granted lease until closed.
	sess, err := concurrency.NewSession(s.cli, concurrency.WithLease(grant.ID), concurrency.WithTTL(int(grant.TTL)))
	if err != nil {
		return nil, fmt.Errorf("leader session: %w", err)
	}
	// NewElection appends "/" to its prefix.
	e := concurrency.NewElection(sess, strings.TrimSuffix(ElectionPrefix(s.cfg.Prefix), "/"))
	if err := e.Campaign(ctx, id); err != nil {
		sess.Close()
		return nil, fmt.Errorf("campaign as %s: %w", id, err)
	}
	return &Leader{store: s, id: id, session: sess, election: e}, nil
}

// ID returns the hub replica's id.
func (l *Leader) ID() string { return l.id }

// Guard returns the fencing guard of this tenure.
func (l *Leader) Guard() LeaderGuard {
	return LeaderGuard{Key: l.election.Key(), Rev: l.election.Rev()}
}

// Done is closed when the tenure's session ends (expired, resigned, or the
// Store closed): stop acting as leader at once.
func (l *Leader) Done() <-chan struct{} { return l.session.Done() }

// Resign gives the leadership up and ends the session, so that another
// hub replica is elected without waiting for the TTL. When etcd is
// unreachable it may block up to LeaderTTL; the leadership then ends when
// the session's lease expires.
func (l *Leader) Resign(ctx context.Context) error {
	var err error
	select {
	case <-l.session.Done(): // the tenure is over already
	default:
		rctx, cancel := l.store.requestCtx(ctx)
		err = l.election.Resign(rctx)
		cancel()
	}
	if cerr := l.session.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("resign %s: %w", l.id, err)
	}
	return nil
}

// LeaderInfo says who leads the hub.
type LeaderInfo struct {
	// ID is the leader's id, as given to Campaign.
	ID string
	// Guard is the leader's tenure.
	Guard LeaderGuard
}

// Leader returns the current hub leader, or ErrNoLeader.
func (s *Store) Leader(ctx context.Context) (LeaderInfo, error) {
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, ElectionPrefix(s.cfg.Prefix), clientv3.WithFirstCreate()...)
	if err != nil {
		return LeaderInfo{}, fmt.Errorf("read hub leader: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return LeaderInfo{}, ErrNoLeader
	}
	kv := resp.Kvs[0]
	return LeaderInfo{ID: string(kv.Value), Guard: LeaderGuard{Key: string(kv.Key), Rev: kv.CreateRevision}}, nil
}
