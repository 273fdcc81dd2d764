package coordinator

import (
	"context"
	"time"

	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

// observe turns a batch of changes of the service's etcd keys into the
// machine's events: a deleted primary lease is LeaseExpired, a new one
// LeaseRenewed; a report is PositionReported (and Promoted when it is the
// committed primary's first as primary); a vanished report makes its
// replica unreachable; an epoch committed by another leader is
// PromotionCommitted. Commands and the state itself only update what the
// session knows.
func (s *session) observe(ctx context.Context, wr coord.WatchResponse) error {
	s.rev = wr.Revision
	at := s.now()
	var evs, leaseEvs []failover.Event
	for _, e := range wr.Events {
		k := e.Key
		switch k.Kind {
		case coord.KindLease:
			if e.Deleted {
				s.silenceLostCluster()
			}
			leaseEvs = append(leaseEvs, s.leaseChanged(e, at)...)
		case coord.KindReport:
			if e.Deleted {
				delete(s.reports, k.Replica)
				s.silent[k.Replica] = true
				continue
			}
			r, err := coord.DecodeReport(e.Value)
			if err != nil {
				s.log.Info("Skipped an unreadable report", "replica", k.Replica, "reason", err.Error())
				continue
			}
			s.reports[k.Replica] = r
			if s.silent[k.Replica] {
				delete(s.silent, k.Replica)
			}
			evs = append(evs, s.reported(k.Replica, r, at)...)
		case coord.KindCommand:
			s.commandChanged(e)
		case coord.KindPrimary:
			if e.Deleted {
				return errGone // forgotten: the service was deleted
			}
			if p, err := coord.DecodePrimary(e.Value); err == nil && uint64(p.Epoch) > s.st.Epoch {
				evs = append(evs, failover.PromotionCommitted{Epoch: uint64(p.Epoch), Primary: s.name(p.Replica), At: at})
			}
		}
	}
	if s.active {
		// A replica whose report vanished or came back is seen anew.
		evs = append(evs, changes(&s.st, &s.v, s.silent, at)...)
	}
	// The lease events last: the machine chooses a candidate as soon as
	// the primary is lost, so it must see the replicas as they are first.
	return s.apply(ctx, append(evs, leaseEvs...)...)
}

// silenceLostCluster counts the replicas of the primary's cluster as
// silent when the primary's lease ends outside a switchover, until each
// reports again: the lease ended because that cluster's agent stopped
// renewing it, and the agent's other reports may not have expired yet
// (they go with its session, which may outlive the lease by moments), so
// a replica there must not look like a candidate. A live agent (one that
// gave a primary up) reports again within its report interval.
func (s *session) silenceLostCluster() {
	if s.st.Phase.Name == failover.SwitchingOver || s.st.Primary == "" {
		return
	}
	r := s.st.Replica(s.st.Primary)
	if r == nil || r.Cluster == "" {
		return
	}
	for _, p := range s.v.placed {
		if p.cluster == r.Cluster {
			s.silent[p.ordinal] = true
		}
	}
}

// leaseChanged follows the primary lease.
func (s *session) leaseChanged(e coord.Event, at time.Time) []failover.Event {
	if e.Deleted {
		s.lease = nil
		epoch := s.st.Epoch
		if h, err := coord.DecodeHolder(e.PrevValue); err == nil {
			epoch = uint64(h.Epoch)
		}
		return []failover.Event{failover.LeaseExpired{Epoch: epoch, At: at}}
	}
	h, err := coord.DecodeHolder(e.Value)
	if err != nil {
		s.lease = &coord.Holder{Epoch: int64(s.st.Epoch)} // held by someone: never promote over it
		return nil
	}
	s.lease = &h
	return []failover.Event{failover.LeaseRenewed{Epoch: uint64(h.Epoch), At: at}}
}

// commandChanged keeps the session's copy of the commands in etcd.
func (s *session) commandChanged(e coord.Event) {
	if e.Deleted {
		delete(s.cmds, e.Key.Replica)
		return
	}
	if c, err := coord.DecodeCommand(e.Value); err == nil {
		s.cmds[e.Key.Replica] = c
	}
}

// reported are the machine's events for a replica's report, timed by the
// hub's clock (the machine's times must come from one clock): the loss it
// measured, if any, before the position, which may say that the replica
// now follows the new history (the machine then takes no measurement
// for the failover that replaced it).
func (s *session) reported(n int, r coord.Report, at time.Time) []failover.Event {
	var evs []failover.Event
	if l := r.Lost; l != nil {
		evs = append(evs, failover.LossMeasured{Replica: s.name(n), Epoch: uint64(l.Epoch), Bytes: l.Bytes,
			Transactions: l.Transactions, At: at})
	}
	ev := failover.PositionReported{Replica: s.name(n), Role: failover.Role(r.Role), Epoch: uint64(max(r.Epoch, 0)),
		Position: r.Position, At: at}
	for _, a := range r.SyncAcks {
		ev.SyncAcks = append(ev.SyncAcks, failover.SyncAck{Replica: s.name(a.Replica), Position: a.Position})
	}
	return append(evs, ev)
}

// followUps are the events the machine has no source for but the
// session's knowledge of etcd: the committed primary confirmed (it
// reports as primary in its epoch), DNS serving it (once confirmed: the
// records were committed with the epoch), a switchover's primary demoted
// (its report says so and its lease is gone), and a Stable primary
// without its lease.
func (s *session) followUps() []failover.Event {
	if !s.active {
		return nil
	}
	st, at := &s.st, s.now()
	ph := st.Phase
	primary := s.ordinal(st.Primary)
	leased := s.lease != nil && uint64(s.lease.Epoch) == st.Epoch && s.lease.Replica == primary
	switch {
	case ph.Name == failover.Promoting && ph.Committed:
		if r, ok := s.reports[primary]; ok && r.Role == coord.RolePrimary && uint64(r.Epoch) == st.Epoch && leased {
			return []failover.Event{failover.Promoted{Replica: st.Primary, Epoch: st.Epoch, Position: st.Fork, At: at}}
		}
	case ph.Name == failover.SwitchingOver && ph.Step == failover.Demoting:
		if r, ok := s.reports[primary]; ok && r.Role != coord.RolePrimary && uint64(r.Epoch) == st.Epoch && s.lease == nil {
			return []failover.Event{failover.Demoted{Replica: st.Primary, Epoch: st.Epoch, Position: r.Position, At: at}}
		}
	case ph.Name == failover.Stable && !leased:
		return []failover.Event{failover.LeaseExpired{Epoch: st.Epoch, At: at}}
	}
	if len(st.History) > 0 {
		if rec := st.History[0]; rec.Epoch == st.Epoch && !rec.PromotedAt.IsZero() && rec.PublishedAt.IsZero() {
			return []failover.Event{failover.DNSPublished{Epoch: st.Epoch, At: at}}
		}
	}
	return nil
}
