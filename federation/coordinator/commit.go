package coordinator

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

// commit carries out a CommitPromotion: one etcd transaction, guarded by
// the tenure, the old epoch and no primary lease being held, that writes
// the new epoch and primary, the DNS primary record (and the records of
// the replicas whose role changes) and the failover state as it will be
// once committed. On success the state becomes that one and its actions
// (Promote, Follow, Fence, ...) are carried out; when a guard fails the
// machine hears CommitFailed with what etcd holds. Any other error ends
// the session: the stored state, from before or after the commit,
// resumes it.
func (s *session) commit(ctx context.Context, a failover.CommitPromotion) ([]failover.Event, error) {
	at := s.now()
	post, acts := failover.Step(s.st, failover.PromotionCommitted{Epoch: a.NewEpoch, Primary: a.Candidate, At: at})
	n := s.ordinal(a.Candidate)
	if post.Epoch != a.NewEpoch || post.Primary != a.Candidate || n < 0 {
		return nil, fmt.Errorf("commit of %s in epoch %d: the machine does not take it (epoch %d, primary %q)", a.Candidate, a.NewEpoch, post.Epoch, post.Primary)
	}
	b, err := failover.Encode(post)
	if err != nil {
		return nil, fmt.Errorf("encode the failover state of %s: %w", s.id, err)
	}
	dns, err := s.promotionRecords(&post, n, int64(a.NewEpoch))
	if err != nil {
		return nil, err
	}
	_, err = s.c.Promoter.Promote(ctx, coord.PromoteRequest{Service: s.id, Leader: s.t.guard,
		OldEpoch: int64(a.OldEpoch), NewPrimary: n, FailoverState: b, DNS: dns})
	switch {
	case errors.Is(err, coord.ErrFenced):
		commitFailuresTotal.WithLabelValues("fenced").Inc()
		return nil, err
	case errors.Is(err, coord.ErrConflict):
		commitFailuresTotal.WithLabelValues("conflict").Inc()
		s.log.Info("Promotion refused; reading etcd again", "candidate", a.Candidate, "epoch", a.NewEpoch, "reason", err.Error())
		return s.refreshAfterConflict(ctx)
	case err != nil:
		commitFailuresTotal.WithLabelValues("error").Inc()
		return nil, err
	}
	s.st, s.saved, s.savedAt = post, post, at
	applied(s.dns, dns)
	s.dnsPrimary = &dnsserver.Primary{Ordinal: n, Epoch: int64(a.NewEpoch)}
	ph := post.Phase
	promotionsTotal.WithLabelValues(string(recordCause(&post))).Inc()
	dataLossBytes.Add(float64(ph.LossBytes))
	s.log.Info("Committed a promotion", "primary", a.Candidate, "epoch", a.NewEpoch, "lossBytes", ph.LossBytes)
	return s.execute(ctx, acts)
}

// recordCause is the cause of the current epoch's failover record.
func recordCause(st *failover.State) failover.Cause {
	if len(st.History) > 0 && st.History[0].Epoch == st.Epoch {
		return st.History[0].Cause
	}
	return st.Phase.Cause
}

// promotionRecords are the DNS changes of a promotion: the primary record,
// guarded by the one etcd holds, and the records of the new primary and
// of the replica it replaces, with their roles in post.
func (s *session) promotionRecords(post *failover.State, n int, epoch int64) (dnsserver.Ops, error) {
	ops, err := s.c.DNS.SetPrimary(s.id.Namespace, s.id.Name, s.dnsPrimary, dnsserver.Primary{Ordinal: n, Epoch: epoch})
	if err != nil {
		return dnsserver.Ops{}, fmt.Errorf("DNS primary record of %s: %w", s.id, err)
	}
	if !s.v.dns.enabled {
		return ops, nil
	}
	want := records{}
	for _, name := range []string{post.Primary, post.Phase.From, s.st.Primary} {
		p := s.v.replica(s.ordinal(name))
		if name == "" || p == nil || len(p.addrs) == 0 || p.region == "" {
			continue
		}
		put, err := s.c.DNS.PutReplica(s.id.Namespace, s.id.Name, p.ordinal, replicaRecord(&s.v, post, p))
		if err != nil {
			return dnsserver.Ops{}, err
		}
		add(want, put)
	}
	for k, v := range want {
		if s.dns[k] != v {
			ops = ops.Add(dnsserver.Ops{Then: putOps(k, v)})
		}
	}
	return ops, nil
}

// refreshAfterConflict re-reads etcd after a refused promotion and tells
// the machine what it holds.
func (s *session) refreshAfterConflict(ctx context.Context) ([]failover.Event, error) {
	snap, err := s.c.Store.Snapshot(ctx, s.id)
	if err != nil {
		return nil, err
	}
	if s.dns, s.dnsPrimary, err = s.c.readRecords(ctx, s.id.Namespace, s.id.Name); err != nil {
		return nil, err
	}
	s.lease = nil
	if snap.Lease != nil {
		h := snap.Lease.Holder
		s.lease = &h
	}
	ev := failover.CommitFailed{Epoch: uint64(snap.Epoch), LeaseHeld: snap.Lease != nil, At: s.now()}
	if snap.Primary != nil {
		ev.Primary = s.name(snap.Primary.Replica)
	}
	return []failover.Event{ev}, nil
}
