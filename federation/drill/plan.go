package drill

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// abortReason says which abort criterion stops a run now, in a sentence;
// empty when none does. pending is the run's latest request, nil for
// none.
func abortReason(a v1alpha1.DrillAbort, now time.Time, pending *v1alpha1.DrillRequest, requests []v1alpha1.DrillRequest, fss *v1alpha1.FederatedStatefulSet) string {
	if a.OnNoCandidate == nil || *a.OnNoCandidate {
		if c := meta.FindStatusCondition(fss.Status.Conditions, v1alpha1.ServiceFailingOver); c != nil && c.Reason == v1alpha1.ReasonNoCandidate {
			return "The coordinator found no replica it may promote: " + c.Message
		}
	}
	if a.MaxDataLossBytes != nil {
		for _, req := range requests {
			if rec := recordOf(req, fss.Status.FailoverHistory); rec != nil && rec.DataLossBytes != nil && *rec.DataLossBytes > *a.MaxDataLossBytes {
				return fmt.Sprintf("The promotion of epoch %d lost %d bytes of log, over maxDataLossBytes %d", rec.Epoch, *rec.DataLossBytes, *a.MaxDataLossBytes)
			}
		}
	}
	if a.MaxRTO != nil && pending != nil && !settled(pending.Phase) && now.Sub(pending.RequestedAt.Time) > a.MaxRTO.Duration {
		return fmt.Sprintf("The switchover to %s did not complete within maxRTO %s", pending.To, a.MaxRTO.Duration)
	}
	return ""
}

// settled tells whether a request reached its final phase.
func settled(p v1alpha1.RequestPhase) bool {
	return p == v1alpha1.RequestSucceeded || p == v1alpha1.RequestFailed || p == v1alpha1.RequestRefused
}

// primaryOf names the service's primary replica ("db-0") and its region;
// ok is false without a primary.
func primaryOf(fss *v1alpha1.FederatedStatefulSet, regions map[string]string) (replica, region string, ok bool) {
	p := fss.Status.Primary
	if p == nil {
		return "", "", false
	}
	return replicaName(fss.Name, p.Ordinal), regions[p.Cluster], true
}

// replicaName is the name of a service's replica of ordinal n.
func replicaName(service string, n int32) string { return fmt.Sprintf("%s-%d", service, n) }

// replicaOutside picks the replica a RegionOutage moves the primary to:
// ready, following the primary, in a region other than region; a
// synchronous standby first, then the least lag, then the lowest ordinal.
func replicaOutside(fss *v1alpha1.FederatedStatefulSet, regions map[string]string, region string) (string, error) {
	var candidates []v1alpha1.ReplicaStatus
	for _, r := range fss.Status.ReplicaStatuses {
		if r.Ready && regions[r.Cluster] != "" && regions[r.Cluster] != region &&
			(r.Role == v1alpha1.RoleSyncStandby || r.Role == v1alpha1.RoleAsyncReplica) {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) == 0 {
		return "", fmt.Errorf("no ready standby of %s outside region %s", fss.Name, region)
	}
	lag := func(r v1alpha1.ReplicaStatus) int64 {
		if r.LagBytes == nil {
			return math.MaxInt64
		}
		return *r.LagBytes
	}
	best := slices.MinFunc(candidates, func(a, b v1alpha1.ReplicaStatus) int {
		sync := func(r v1alpha1.ReplicaStatus) int {
			if r.Role == v1alpha1.RoleSyncStandby {
				return 0
			}
			return 1
		}
		return cmp.Or(cmp.Compare(sync(a), sync(b)), cmp.Compare(lag(a), lag(b)), cmp.Compare(a.Ordinal, b.Ordinal))
	})
	return replicaName(fss.Name, best.Ordinal), nil
}

// follows tells whether replica is a ready standby of the service's
// current primary: the coordinator reports its lag only while it reports
// in the current epoch (docs/failover.md), and switches over only to such
// a replica.
func follows(fss *v1alpha1.FederatedStatefulSet, replica string) bool {
	for _, r := range fss.Status.ReplicaStatuses {
		if replicaName(fss.Name, r.Ordinal) == replica {
			return r.Ready && r.LagBytes != nil && (r.Role == v1alpha1.RoleSyncStandby || r.Role == v1alpha1.RoleAsyncReplica)
		}
	}
	return false
}

// requestID is the id of a run's n-th request (from 0): the drill's UID
// and a counter over all runs, two requests per run at most.
func requestID(uid string, run int32, n int) string {
	return fmt.Sprintf("%s-%d", uid, 2*(int(run)-1)+n+1)
}
