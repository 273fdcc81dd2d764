package coordinator

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

// conditionSet records an event when the FailingOver condition's reason
// changes; the status projection writes the condition itself.
func (s *session) conditionSet(c failover.Condition) {
	if c.Reason == s.announced.Reason && c.Status == s.announced.Status {
		return
	}
	s.announced = c
	kind := corev1.EventTypeNormal
	switch c.Reason {
	case failover.ReasonPrimaryLost, failover.ReasonNoCandidate, failover.ReasonWaitingForOperator:
		kind = corev1.EventTypeWarning
	}
	s.event(kind, c.Reason, v1alpha1.ServiceFailingOver, c.Message)
}

// recorded announces a failover record the first time it reaches each
// step, and measures it once published.
func (s *session) recorded(rec failover.Record) {
	old, known := s.seen[rec.Epoch]
	s.seen[rec.Epoch] = rec
	if !known || old.CommittedAt.IsZero() {
		note := fmt.Sprintf("%s committed as the first primary, in epoch %d", where(&s.st, rec.To), rec.Epoch)
		if rec.From != "" {
			note = fmt.Sprintf("%s committed as primary in epoch %d, replacing %s (%s, about %d bytes lost)",
				where(&s.st, rec.To), rec.Epoch, where(&s.st, rec.From), rec.Cause, rec.DataLossBytes)
		}
		s.event(corev1.EventTypeNormal, "PrimaryCommitted", "Promote", note)
	}
	if !rec.PublishedAt.IsZero() && (!known || old.PublishedAt.IsZero()) {
		rto := rec.RTO()
		s.event(corev1.EventTypeNormal, "PrimaryPublished", "Promote", fmt.Sprintf(
			"%s is promoted and named by DNS as primary in epoch %d; RTO %s", where(&s.st, rec.To), rec.Epoch, rto))
		rtoSeconds.WithLabelValues(string(rec.Cause)).Observe(rto.Seconds())
		if !rec.DetectedAt.IsZero() && !rec.CommittedAt.IsZero() {
			phaseSeconds.WithLabelValues("detect_to_commit").Observe(rec.CommittedAt.Sub(rec.DetectedAt).Seconds())
		}
		if !rec.PromotedAt.IsZero() && !rec.CommittedAt.IsZero() {
			phaseSeconds.WithLabelValues("commit_to_promoted").Observe(rec.PromotedAt.Sub(rec.CommittedAt).Seconds())
		}
	}
	if !rec.LossMeasuredAt.IsZero() && (!known || old.LossMeasuredAt.IsZero()) {
		s.lossMeasured(rec)
	}
}

// lossMeasured announces the loss measured on a returning old primary,
// once per failover record.
func (s *session) lossMeasured(rec failover.Record) {
	measuredLossBytes.Add(float64(rec.MeasuredLossBytes))
	lostTransactions.Add(float64(rec.LostTransactions))
	kind := corev1.EventTypeNormal
	if rec.MeasuredLossBytes > 0 || rec.LostTransactions > 0 {
		kind = corev1.EventTypeWarning
	}
	s.event(kind, "DataLossMeasured", "Measure", fmt.Sprintf(
		"%s, replaced by %s in epoch %d, returned: before it was rewound its log held %d bytes and %d committed transactions beyond the new history, lost (estimated at promotion: %d bytes)",
		where(&s.st, rec.From), where(&s.st, rec.To), rec.Epoch, rec.MeasuredLossBytes, rec.LostTransactions, rec.DataLossBytes))
}

// noteSuspicion records PrimaryClusterSuspected once per primary while
// gossip declares its cluster dead and the primary still holds its lease:
// operators see the outage coming before the lease expires. The failover
// machine is not told; only the lease's expiry promotes.
func (s *session) noteSuspicion() {
	if s.c.Suspicions == nil || s.st.Primary == "" {
		return
	}
	r := s.st.Replica(s.st.Primary)
	leased := s.lease != nil && uint64(s.lease.Epoch) == s.st.Epoch && s.lease.Replica == s.ordinal(s.st.Primary)
	if r == nil || r.Cluster == "" || !leased {
		s.suspected = ""
		return
	}
	note, ok := s.c.Suspicions.ClusterSuspected(r.Cluster)
	if !ok {
		s.suspected = ""
		return
	}
	key := fmt.Sprintf("%d/%s", s.st.Epoch, r.Cluster)
	if s.suspected == key {
		return
	}
	s.suspected = key
	suspicionsTotal.Inc()
	s.log.Info("Gossip declares the primary's cluster dead; waiting for the lease", "primary", s.st.Primary, "cluster", r.Cluster, "epoch", s.st.Epoch)
	s.warn("PrimaryClusterSuspected", "Observe", fmt.Sprintf(
		"Primary %s in epoch %d: %s. The primary keeps its role while it holds its lease; a failover starts only when the lease expires",
		where(&s.st, s.st.Primary), s.st.Epoch, note))
}

// warn records a warning event on the service.
func (s *session) warn(reason, action, note string) {
	s.event(corev1.EventTypeWarning, reason, action, note)
}

// event records an event on the service, when its object was read.
func (s *session) event(kind, reason, action, note string) {
	if s.fss != nil {
		s.c.Recorder.Eventf(s.fss, nil, kind, reason, action, "%s", note)
	}
}
