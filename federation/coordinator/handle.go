package coordinator

import (
	"context"
	"fmt"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

// requests acts on the operators' requests that are new: each is first
// recorded in status.requests under its id (so it is acted on once, by
// whichever leader), then stepped; a refusal by the machine is recorded
// in turn.
func (s *session) requests(ctx context.Context) error {
	for _, r := range requestsOf(s.fss.Annotations) {
		handled, err := s.handled(ctx, r)
		if err != nil {
			return err
		}
		if handled {
			continue
		}
		at := s.now()
		rs := v1alpha1.RequestStatus{Kind: r.kind, ID: r.id, Phase: v1alpha1.RequestAccepted, Epoch: int64(s.st.Epoch),
			Time: seconds(at), Message: "accepted in epoch " + itoa(s.st.Epoch)}
		ev, err := r.event(&s.v, at)
		if r.err != nil {
			err = r.err
		}
		if err != nil {
			rs.Phase, rs.Message = v1alpha1.RequestRefused, err.Error()
		}
		if err := s.setRequest(ctx, rs); err != nil {
			return err
		}
		if rs.Phase != v1alpha1.RequestAccepted {
			continue
		}
		kind := failover.RequestKind(r.kind)
		delete(s.refused, kind)
		if err := s.apply(ctx, ev); err != nil {
			return err
		}
		if reason, ok := s.refused[kind]; ok {
			rs.Phase, rs.Message, rs.Time = v1alpha1.RequestRefused, reason, seconds(s.now())
			if err := s.setRequest(ctx, rs); err != nil {
				return err
			}
		}
	}
	return nil
}

// handled says whether a request was acted on already: by this session,
// or as status.requests says. A request that looks new in the cache is
// confirmed with the API server, so that a cache behind the session's own
// writes never has a request acted on twice.
func (s *session) handled(ctx context.Context, r request) (bool, error) {
	if s.done[r.kind] == r.id {
		return true, nil
	}
	if cur := findRequest(s.fss.Status.Requests, r.kind); cur != nil && cur.ID == r.id {
		s.done[r.kind], s.noted[r.kind] = r.id, *cur
		return true, nil
	}
	var live v1alpha1.FederatedStatefulSet
	if err := s.c.APIReader.Get(ctx, s.svc.key, &live); err != nil {
		return false, fmt.Errorf("read %s: %w", s.svc.key, err)
	}
	s.fss = &live
	if cur := findRequest(live.Status.Requests, r.kind); cur != nil && cur.ID == r.id {
		s.done[r.kind], s.noted[r.kind] = r.id, *cur
		return true, nil
	}
	return false, nil
}

// setRequest records a request's status and announces it.
func (s *session) setRequest(ctx context.Context, rs v1alpha1.RequestStatus) error {
	err := s.patchStatus(ctx, func(st *v1alpha1.FederatedStatefulSetStatus) {
		if cur := findRequest(st.Requests, rs.Kind); cur != nil {
			*cur = rs
			return
		}
		st.Requests = append(st.Requests, rs)
	})
	if err != nil {
		return err
	}
	s.done[rs.Kind] = rs.ID
	s.requestNote(rs)
	return nil
}
