package coordinator

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

// sync brings the session up to the service's object and back: it
// bootstraps a new service, feeds the machine the changes of policy,
// placement and readiness and the operators' requests, tells new replicas
// to seed, steps the timers (on ticks), then writes the status and the
// DNS records the state calls for.
func (s *session) sync(ctx context.Context, tick bool) error {
	if err := s.read(ctx); err != nil {
		return err
	}
	if s.active && s.st.Epoch == 0 && s.st.Phase.Name != failover.Promoting {
		// The first commit was refused and the machine fell back to
		// choosing among replicas that have no data: choose again.
		s.st, s.active = failover.State{}, false
	}
	if !s.active {
		if err := s.bootstrap(ctx); err != nil {
			return err
		}
	}
	if s.active {
		at := s.now()
		s.st.Policy, s.st.Service = s.v.policy, s.v.service
		evs := changes(&s.st, &s.v, s.silent, at)
		if tick {
			evs = append(evs, failover.Tick{At: at})
		}
		if err := s.apply(ctx, evs...); err != nil {
			return err
		}
		if err := s.requests(ctx); err != nil {
			return err
		}
		if err := s.flush(ctx, seeds(&s.st, s.svc.key.Name, s.cmds, at)); err != nil {
			return err
		}
		if err := s.save(ctx); err != nil {
			return err
		}
		s.noteSuspicion()
	}
	if err := s.writeStatus(ctx); err != nil {
		return err
	}
	return s.publishDNS(ctx)
}

// writeStatus projects the state into the status and moves accepted
// requests on to their outcome.
func (s *session) writeStatus(ctx context.Context) error {
	if !s.active {
		return nil
	}
	at := s.now()
	lagsDue := at.Sub(s.statusAt) >= s.c.Config.SaveInterval
	err := s.patchStatus(ctx, func(st *v1alpha1.FederatedStatefulSetStatus) {
		old := lags(st)
		project(st, &s.st, s.svc.key.Name, s.fss.Generation)
		if !lagsDue {
			// Lags change with every report: written with the rest, or
			// every SaveInterval.
			restore(st, old)
		}
		for i := range st.Requests {
			rs := &st.Requests[i]
			if rs.Phase != v1alpha1.RequestAccepted {
				continue
			}
			if phase, msg := outcome(rs, &s.st); phase != rs.Phase {
				rs.Phase, rs.Message, rs.Time = phase, msg, seconds(at)
			}
		}
	})
	if err != nil {
		return err
	}
	if lagsDue {
		s.statusAt = at
	}
	for _, rs := range s.fss.Status.Requests {
		if rs.ID == s.done[rs.Kind] {
			s.requestNote(rs)
		}
	}
	return nil
}

// lags returns the replicas' lags by ordinal.
func lags(st *v1alpha1.FederatedStatefulSetStatus) map[int32]*int64 {
	out := map[int32]*int64{}
	for _, rs := range st.ReplicaStatuses {
		out[rs.Ordinal] = rs.LagBytes
	}
	return out
}

// restore puts back the lags of replicas that had one and still have one,
// leaving new and vanished lags as projected.
func restore(st *v1alpha1.FederatedStatefulSetStatus, old map[int32]*int64) {
	for i := range st.ReplicaStatuses {
		rs := &st.ReplicaStatuses[i]
		if prev := old[rs.Ordinal]; prev != nil && rs.LagBytes != nil {
			rs.LagBytes = prev
		}
	}
}

// patchStatus changes the status with mutate and patches it when it
// differs, guarded by the resource version: on a conflict it reads the
// service from the API server and tries once more, so that it never
// overwrites fields another controller changed meanwhile.
func (s *session) patchStatus(ctx context.Context, mutate func(*v1alpha1.FederatedStatefulSetStatus)) error {
	for attempt := 0; ; attempt++ {
		before := s.fss
		after := before.DeepCopy()
		mutate(&after.Status)
		if equality.Semantic.DeepEqual(before.Status, after.Status) {
			return nil
		}
		err := s.c.Client.Status().Patch(ctx, after, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		if err == nil {
			s.fss = after
			return nil
		}
		if !apierrors.IsConflict(err) || attempt > 0 {
			return fmt.Errorf("patch the status of %s: %w", s.svc.key, err)
		}
		var fresh v1alpha1.FederatedStatefulSet
		if err := s.c.APIReader.Get(ctx, s.svc.key, &fresh); err != nil {
			return fmt.Errorf("read %s again: %w", s.svc.key, err)
		}
		s.fss = &fresh
	}
}

// publishDNS writes the replica and service records that differ from what
// etcd holds.
func (s *session) publishDNS(ctx context.Context) error {
	var st *failover.State
	if s.active {
		st = &s.st
	}
	want, err := desiredRecords(s.c.DNS, s.id.Namespace, &s.v, st)
	if err != nil {
		return err
	}
	ops := diff(s.c.Config.DNSPrefix, s.id.Namespace, s.id.Name, s.dns, want)
	if err := s.c.publish(ctx, s.t, ops); err != nil {
		return err
	}
	applied(s.dns, ops)
	return nil
}

// requestNote records an event and counts a request's phase, once per
// phase of each request.
func (s *session) requestNote(rs v1alpha1.RequestStatus) {
	if old, ok := s.noted[rs.Kind]; ok && old.ID == rs.ID && old.Phase == rs.Phase {
		return
	}
	s.noted[rs.Kind] = rs
	requestsTotal.WithLabelValues(string(rs.Kind), string(rs.Phase)).Inc()
	kind := corev1.EventTypeNormal
	if rs.Phase == v1alpha1.RequestRefused || rs.Phase == v1alpha1.RequestFailed {
		kind = corev1.EventTypeWarning
	}
	s.event(kind, string(rs.Kind)+string(rs.Phase), string(rs.Kind), fmt.Sprintf("Request %s: %s", rs.ID, rs.Message))
}

// findRequest returns the request of kind in list, or nil.
func findRequest(list []v1alpha1.RequestStatus, kind v1alpha1.RequestKind) *v1alpha1.RequestStatus {
	for i := range list {
		if list[i].Kind == kind {
			return &list[i]
		}
	}
	return nil
}
