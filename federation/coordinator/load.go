package coordinator

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

// load reads the service's coordination state, DNS records and object,
// and resumes the stored failover state: as it was stored, caught up
// with etcd, the service's object and the replicas' reports, then
// stepped with Resume so that whatever the phase still needs is done
// again. A service that never had a primary waits for its bootstrap.
func (s *session) load(ctx context.Context) error {
	snap, err := s.c.Store.Snapshot(ctx, s.id)
	if err != nil {
		return err
	}
	s.rev, s.reports, s.cmds = snap.Revision, snap.Reports, snap.Commands
	if snap.Lease != nil {
		h := snap.Lease.Holder
		s.lease = &h
	}
	for _, err := range snap.Skipped {
		s.log.Info("Skipped an unreadable coordination key", "reason", err.Error())
	}
	if s.dns, s.dnsPrimary, err = s.c.readRecords(ctx, s.id.Namespace, s.id.Name); err != nil {
		return err
	}
	if err := s.read(ctx); err != nil {
		return err
	}
	switch {
	case snap.FailoverState != nil:
		st, err := failover.Decode(snap.FailoverState)
		if err != nil {
			s.warn("StateUnreadable", "Load", fmt.Sprintf("The stored failover state cannot be read; the service is not coordinated: %v", err))
			return fmt.Errorf("failover state of %s: %w", s.id, err)
		}
		s.st, s.saved, s.savedAt = st, st, s.now()
	case snap.Epoch > 0:
		// The state is lost but etcd names the primary: start Stable.
		s.st = s.rebuilt(snap)
		s.log.Info("No stored failover state; starting from the stored epoch", "epoch", snap.Epoch)
	default:
		return nil // bootstrap waits for the placement (sync)
	}
	s.active, s.announced = true, s.st.Condition
	for _, rec := range s.st.History {
		s.seen[rec.Epoch] = rec
	}
	at := s.now()
	var evs []failover.Event
	if snap.Primary != nil && uint64(snap.Epoch) > s.st.Epoch {
		evs = append(evs, failover.PromotionCommitted{Epoch: uint64(snap.Epoch), Primary: s.name(snap.Primary.Replica), At: at})
	}
	s.st.Policy, s.st.Service = s.v.policy, s.v.service
	for _, r := range s.st.Replicas {
		// A replica that reported before but has no report now lost its
		// agent while no leader watched: its stored position is stale.
		if n := s.ordinal(r.Name); n >= 0 && !r.ReportedAt.IsZero() {
			if _, ok := s.reports[n]; !ok {
				s.silent[n] = true
			}
		}
	}
	evs = append(evs, changes(&s.st, &s.v, s.silent, at)...)
	for _, n := range slicesSorted(s.reports) {
		evs = append(evs, s.reported(n, s.reports[n], at)...)
	}
	// A Stable primary without its lease lost it while no leader
	// watched: apply's follow-ups see to it.
	return s.apply(ctx, append(evs, failover.Resume{At: at})...)
}

// rebuilt is a Stable state at the snapshot's epoch and primary, for a
// service whose stored state is gone.
func (s *session) rebuilt(snap *coord.Snapshot) failover.State {
	st := failover.State{Service: s.v.service, Policy: s.v.policy, Epoch: uint64(snap.Epoch),
		Primary: s.name(snap.Primary.Replica), Phase: failover.Phase{Name: failover.Stable}}
	ords := []int{snap.Primary.Replica}
	for _, p := range s.v.placed {
		ords = append(ords, p.ordinal)
	}
	slices.Sort(ords)
	for _, n := range slices.Compact(ords) {
		st.Replicas = append(st.Replicas, failover.Replica{Name: s.name(n)})
	}
	return st
}

// read reads the service's object and the member clusters from the cache
// into the session's view.
func (s *session) read(ctx context.Context) error {
	var fss v1alpha1.FederatedStatefulSet
	if err := s.c.Client.Get(ctx, s.svc.key, &fss); err != nil {
		if apierrors.IsNotFound(err) {
			return errGone
		}
		return fmt.Errorf("get FederatedStatefulSet %s: %w", s.svc.key, err)
	}
	if !primaryReplicas(&fss) {
		return errGone
	}
	members, err := s.c.members(ctx)
	if err != nil {
		return err
	}
	s.fss, s.v = &fss, viewOf(&fss, members, s.c.Config.StepTimeout)
	return nil
}

// bootstrap commits a new service's first primary once its replicas are
// placed: the lowest ordinal in the first preferred primary region, else
// ordinal 0, in epoch 1, through the same promotion transaction as every
// failover. The others are told to seed themselves from it.
func (s *session) bootstrap(ctx context.Context) error {
	n, ok := firstPrimary(&s.v)
	if !ok {
		return nil
	}
	at := s.now()
	st := failover.State{Service: s.v.service, Policy: s.v.policy}
	evs := changes(&st, &s.v, s.silent, at)
	for _, n := range slicesSorted(s.reports) {
		evs = append(evs, s.reported(n, s.reports[n], at)...) // replicas that hold data already
	}
	for _, ev := range evs {
		st, _ = failover.Step(st, ev)
	}
	st, acts, err := failover.Bootstrap(st, s.name(n), at)
	if err != nil {
		return err
	}
	s.st, s.active = st, true
	if err := s.save(ctx); err != nil {
		return err
	}
	s.log.Info("Bootstrapping the first primary", "replica", s.name(n))
	more, err := s.execute(ctx, acts)
	if err != nil {
		return err
	}
	return s.apply(ctx, more...)
}

// slicesSorted returns the keys of a map by ordinal, in order.
func slicesSorted[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
