package coordinator

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

// project writes what the failover state says into a service's status:
// the primary, each replica's role and lag, the FailingOver condition and
// the failover history. The status's other fields belong to the
// FederatedStatefulSet controller and are left alone.
func project(st *v1alpha1.FederatedStatefulSetStatus, s *failover.State, svc string, generation int64) {
	st.Primary = nil
	if p := s.Replica(s.Primary); p != nil {
		n, _ := ordinalOf(svc, s.Primary)
		st.Primary = &v1alpha1.PrimaryStatus{Ordinal: int32(n), Cluster: p.Cluster, Epoch: int64(s.Epoch)}
		for _, rec := range s.History {
			if rec.Epoch == s.Epoch && !rec.CommittedAt.IsZero() {
				since := seconds(rec.CommittedAt)
				st.Primary.Since = &since
			}
		}
	}
	head := s.Head().Position
	for i := range st.ReplicaStatuses {
		rs := &st.ReplicaStatuses[i]
		r := s.Replica(replicaName(svc, int(rs.Ordinal)))
		rs.Role, rs.LagBytes = roleOf(s, r), nil
		if r != nil && r.Name != s.Primary && r.Epoch == s.Epoch && !r.ReportedAt.IsZero() {
			lag := int64(0)
			if pos := max(r.Position, r.SyncAcked); head > pos {
				lag = int64(min(head-pos, 1<<63-1))
			}
			rs.LagBytes = &lag
		}
	}
	if c := s.Condition; c.Type != "" {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ServiceFailingOver,
			Status: metav1.ConditionStatus(c.Status), Reason: c.Reason, Message: c.Message, ObservedGeneration: generation})
	}
	st.FailoverHistory = nil
	for _, rec := range s.History {
		st.FailoverHistory = append(st.FailoverHistory, record(rec, svc))
	}
}

// roleOf is a replica's role for the status.
func roleOf(s *failover.State, r *failover.Replica) v1alpha1.ReplicaRole {
	switch {
	case r == nil:
		return v1alpha1.RoleUnknown
	case r.Fenced || r.Role == failover.RoleFenced:
		return v1alpha1.RoleFenced
	case r.Name == s.Primary:
		return v1alpha1.RolePrimary
	case r.Role == failover.RoleSyncStandby || r.SyncAcked > 0:
		return v1alpha1.RoleSyncStandby
	case r.Role == failover.RoleAsyncReplica:
		return v1alpha1.RoleAsyncReplica
	}
	return v1alpha1.RoleUnknown
}

// record converts one failover record.
func record(rec failover.Record, svc string) v1alpha1.FailoverRecord {
	to, _ := ordinalOf(svc, rec.To)
	out := v1alpha1.FailoverRecord{
		Reason: string(rec.Cause), ToOrdinal: int32(to), Epoch: int64(rec.Epoch),
		AcceptedDataLoss: rec.AcceptedDataLoss,
		DetectedAt:       micro(rec.DetectedAt), FencedAt: micro(rec.FencedAt), CommittedAt: micro(rec.CommittedAt),
		PromotedAt: micro(rec.PromotedAt), PublishedAt: micro(rec.PublishedAt),
	}
	if from, ok := ordinalOf(svc, rec.From); ok {
		f := int32(from)
		out.FromOrdinal = &f
	}
	out.Time = seconds(rec.CommittedAt)
	if !rec.PublishedAt.IsZero() {
		out.Time = seconds(rec.PublishedAt)
	}
	if rto := rec.RTO(); rto > 0 {
		out.RTO = &metav1.Duration{Duration: rto}
	}
	out.DataLossBytes = clampInt64(rec.DataLossBytes)
	if !rec.LossMeasuredAt.IsZero() {
		out.MeasuredLossBytes, out.LostTransactions = clampInt64(rec.MeasuredLossBytes), clampInt64(rec.LostTransactions)
		measured := seconds(rec.LossMeasuredAt)
		out.LossMeasuredAt = &measured
	}
	return out
}

// clampInt64 is n as the API's int64, the largest one when n does not fit.
func clampInt64(n uint64) *int64 {
	v := int64(min(n, 1<<63-1))
	return &v
}

// micro converts a time, zero to nil, at the microseconds the API keeps,
// so that a status read back compares equal.
func micro(t time.Time) *metav1.MicroTime {
	if t.IsZero() {
		return nil
	}
	return &metav1.MicroTime{Time: t.Truncate(time.Microsecond).Local()}
}

// seconds converts a time at the seconds the API keeps.
func seconds(t time.Time) metav1.Time {
	return metav1.Time{Time: t.Truncate(time.Second).Local()}
}
