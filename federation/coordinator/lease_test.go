package coordinator_test

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/replication/coord"
)

// TestLeaseExpiry: the primary's agent stops renewing (its cluster is cut
// off etcd); once its lease expires the hub promotes the most advanced
// healthy replica elsewhere within the RPO budget — within the lease TTL
// and a small delta — and the status, epoch, DNS primary record and
// failover history say so, with every phase timed.
func TestLeaseExpiry(t *testing.T) {
	e := newEnv(t)
	// db-1 (us-1) stays 8 KiB behind the primary, db-2 (ap-1) 64 KiB. The
	// estimated loss is the primary's last reported position minus db-1's:
	// on a loaded machine db-1 may report after the primary's last report,
	// so the estimate may be 0, never more than the budget.
	f := startFleet(t, e, []uint64{0, 8 << 10, 64 << 10})
	e.startHub(t, "hub-a", nil)
	budget := int64(1 << 20)
	e.createService(spec{rpoBytes: &budget})
	waitStable(t, e, 1, 0)
	waitLagging(t, e, 1, 2)

	cut := time.Now()
	f.partition("eu-1")
	var flipped time.Time
	eventually(t, timeout, "DNS names db-1 in epoch 2", func() error {
		p, _ := e.dnsPrimary()
		if p == nil || p.Epoch != 2 || p.Ordinal != 1 {
			return fmt.Errorf("DNS primary %+v", p)
		}
		flipped = time.Now()
		return nil
	})
	if took, bound := flipped.Sub(cut), e.leaseTTL+1500*time.Millisecond; took > bound {
		t.Errorf("DNS flipped %s after the partition, more than the lease TTL %s and a delta", took, e.leaseTTL)
	} else {
		t.Logf("DNS flipped %s after the partition (lease TTL %s)", took.Round(time.Millisecond), e.leaseTTL)
	}
	waitStable(t, e, 2, 1)
	snap := e.snapshot()
	if snap.Epoch != 2 || snap.Primary.Replica != 1 {
		t.Errorf("etcd: epoch %d primary %+v", snap.Epoch, snap.Primary)
	}
	if c := snap.Commands[2]; c.Kind != coord.CommandFollow || c.Primary != 1 || c.Epoch != 2 {
		t.Errorf("command of db-2: %+v, want Follow db-1 in epoch 2", c)
	}
	if c := snap.Commands[0]; c.Epoch != 2 || (c.Kind != coord.CommandRewind && c.Kind != coord.CommandFollow) {
		t.Errorf("command of the lost primary db-0: %+v, want Rewind or Follow in epoch 2", c)
	}
	h := e.get().Status.FailoverHistory
	if len(h) != 2 {
		t.Fatalf("history %+v, want the failover and the bootstrap", h)
	}
	r := h[0]
	if r.Reason != "LeaseExpired" || r.Epoch != 2 || r.ToOrdinal != 1 || r.FromOrdinal == nil || *r.FromOrdinal != 0 ||
		r.DataLossBytes == nil || *r.DataLossBytes < 0 || *r.DataLossBytes > budget || r.RTO == nil {
		t.Errorf("failover record %+v", r)
	}
	for name, at := range map[string]*metav1.MicroTime{"detected": r.DetectedAt, "fenced": r.FencedAt,
		"committed": r.CommittedAt, "promoted": r.PromotedAt, "published": r.PublishedAt} {
		if at == nil {
			t.Fatalf("failover record without its %s time: %+v", name, r)
		}
	}
	if r.CommittedAt.Before(r.DetectedAt) || r.PromotedAt.Before(r.CommittedAt) || r.PublishedAt.Before(r.PromotedAt) {
		t.Errorf("phases out of order: %+v", r)
	}
	if r.DetectedAt.Time.Before(cut) {
		t.Errorf("detected at %s, before the partition at %s", r.DetectedAt.Time, cut)
	}
	t.Logf("RTO %s, estimated loss %d bytes", r.RTO.Duration, *r.DataLossBytes)
	f.noSplitBrain()
}
