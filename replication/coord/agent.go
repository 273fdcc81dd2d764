package coord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Agent is a member cluster's agent session: an etcd lease renewed every
// Config.RenewInterval that carries the agent's liveness key and its
// replicas' reports, so both vanish when the agent stops renewing. An
// Agent also takes primary leases (HoldPrimary). Its methods are safe for
// concurrent use.
type Agent struct {
	store   *Store
	name    string
	cluster string
	k       *keeper

	mu    sync.Mutex
	holds map[*PrimaryLease]struct{}
}

// StartAgent opens the session of agent name serving cluster (both
// DNS-1123 labels) and publishes its liveness key.
//
// When a live session of the same name and cluster exists — the agent was
// restarted within its TTL — StartAgent takes that session over: it renews
// the same etcd lease, so the replicas' reports stay and the primary leases
// the previous run held can be taken over by HoldPrimary. Run one agent per
// name: two processes of one name share one session. StartAgent fails with
// ErrConflict when the live session serves another cluster.
func (s *Store) StartAgent(ctx context.Context, name, cluster string) (*Agent, error) {
	info := AgentInfo{Cluster: cluster, Started: time.Now()}
	key := AgentKey(name)
	if err := errors.Join(key.Validate(), info.Validate()); err != nil {
		return nil, fmt.Errorf("agent %s: %w", name, err)
	}
	val, err := encode(info)
	if err != nil {
		return nil, err
	}
	ek := s.key(key)
	for attempt := 0; ; attempt++ {
		k, err := s.takeOverAgent(ctx, name, cluster, ek)
		if errors.Is(err, errLeaseGone) && attempt < 3 {
			continue // the old session expired between the read and the renewal
		}
		if err != nil {
			return nil, err
		}
		if k != nil {
			return &Agent{store: s, name: name, cluster: cluster, k: k, holds: map[*PrimaryLease]struct{}{}}, nil
		}
		k, err = grantLease(ctx, s.cli, s.cfg.LeaseTTL, s.cfg.RenewInterval, s.cfg.RequestTimeout)
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", name, err)
		}
		rctx, cancel := s.requestCtx(ctx)
		resp, err := s.cli.Txn(rctx).
			If(clientv3.Compare(clientv3.CreateRevision(ek), "=", 0)).
			Then(clientv3.OpPut(ek, val, clientv3.WithLease(k.id))).
			Commit()
		cancel()
		if err == nil && !resp.Succeeded && attempt < 3 {
			_ = k.release(ctx)
			continue // a session appeared meanwhile: take it over
		}
		if err == nil && !resp.Succeeded {
			err = fmt.Errorf("%w: agent %s already has a live session", ErrConflict, name)
		}
		if err != nil {
			_ = k.release(ctx) // the lease expires by itself if this fails
			return nil, fmt.Errorf("publish agent %s: %w", name, err)
		}
		return &Agent{store: s, name: name, cluster: cluster, k: k, holds: map[*PrimaryLease]struct{}{}}, nil
	}
}

// takeOverAgent renews the live session of agent name if there is one; it
// returns nil and no error when there is none.
func (s *Store) takeOverAgent(ctx context.Context, name, cluster, ek string) (*keeper, error) {
	rctx, cancel := s.requestCtx(ctx)
	resp, err := s.cli.Get(rctx, ek)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", name, err)
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].Lease == 0 {
		return nil, nil
	}
	if old, err := DecodeAgentInfo(resp.Kvs[0].Value); err != nil || old.Cluster != cluster {
		return nil, fmt.Errorf("%w: agent %s already has a live session for another cluster", ErrConflict, name)
	}
	k, err := adoptLease(ctx, s.cli, clientv3.LeaseID(resp.Kvs[0].Lease), s.cfg.RenewInterval, s.cfg.RequestTimeout)
	if err != nil {
		return nil, fmt.Errorf("agent %s: take over its session: %w", name, err)
	}
	return k, nil
}

// Name returns the agent's name.
func (a *Agent) Name() string { return a.name }

// Done is closed when the session ends: revoked, expired, not renewed for
// a whole TTL, or closed. After that every write of the Agent fails with
// ErrSessionEnded; start a new Agent to continue.
func (a *Agent) Done() <-chan struct{} { return a.k.done }

// Err returns nil while the session lives, then why it ended, wrapping
// ErrSessionEnded.
func (a *Agent) Err() error {
	if err := a.k.reason(); err != nil {
		return fmt.Errorf("%w: %w", ErrSessionEnded, err)
	}
	return nil
}

// LastRenewed returns when the last successful renewal of the session was
// sent: the session cannot expire on the server before LastRenewed()+TTL().
func (a *Agent) LastRenewed() time.Time { t, _ := a.k.renewed(); return t }

// TTL returns the session's TTL as the server last granted it.
func (a *Agent) TTL() time.Duration { _, ttl := a.k.renewed(); return ttl }

// Lease returns the etcd lease of the session.
func (a *Agent) Lease() clientv3.LeaseID { return a.k.id }

// Close releases every primary lease the agent holds and ends the session,
// deleting its liveness key and reports. It may block for a request
// timeout per lease when etcd is unreachable; the leases then expire by
// themselves. An agent that is only restarting calls Abandon instead.
func (a *Agent) Close(ctx context.Context) error {
	a.mu.Lock()
	holds := make([]*PrimaryLease, 0, len(a.holds))
	for h := range a.holds {
		holds = append(holds, h)
	}
	a.mu.Unlock()
	var errs []error
	for _, h := range holds {
		errs = append(errs, h.Release(ctx))
	}
	errs = append(errs, a.k.release(ctx))
	return errors.Join(errs...)
}

// Abandon stops renewing the session and the primary leases without
// revoking them, for an agent about to restart: a new run of the same agent
// takes them over (StartAgent, HoldPrimary) if it starts within their TTL;
// otherwise they expire and the hub acts on that.
func (a *Agent) Abandon() {
	a.mu.Lock()
	holds := make([]*PrimaryLease, 0, len(a.holds))
	for h := range a.holds {
		holds = append(holds, h)
	}
	a.mu.Unlock()
	for _, h := range holds {
		h.k.lose(errAbandoned)
	}
	a.k.lose(errAbandoned)
}

// alive returns ErrSessionEnded once the session is over.
func (a *Agent) alive() error {
	select {
	case <-a.k.done:
		return a.Err()
	default:
		return nil
	}
}

// Agents returns the agents whose session is alive, by name, and the
// revision they were read at. Values that cannot be decoded are left out.
func (s *Store) Agents(ctx context.Context) (map[string]AgentInfo, int64, error) {
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, AgentsPrefix(s.cfg.Prefix), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("list agents: %w", err)
	}
	agents := map[string]AgentInfo{}
	for _, kv := range resp.Kvs {
		k, err := ParseKey(s.cfg.Prefix, string(kv.Key))
		if err != nil || k.Kind != KindAgent {
			continue
		}
		if info, err := DecodeAgentInfo(kv.Value); err == nil {
			agents[k.Agent] = info
		}
	}
	return agents, resp.Header.Revision, nil
}
