package failover

import (
	"context"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// stallReceivers stops (SIGSTOP) the WAL receiver of every standby at
// addrs, so that they fall behind their primary; the returned function
// kills them (SIGKILL), dropping what they had not read from their socket
// yet: their server restarts and reconnects.
func stallReceivers(t *testing.T, addrs []netip.Addr) func() {
	t.Helper()
	var pids []int
	for _, a := range addrs {
		conn, err := connect(t.Context(), a)
		if err != nil {
			t.Fatal(err)
		}
		var pid int
		err = conn.QueryRow(t.Context(), "SELECT pid FROM pg_stat_wal_receiver").Scan(&pid)
		conn.Close(context.Background())
		if err != nil {
			t.Fatalf("WAL receiver of %v: %v", a, err)
		}
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	kill := func() {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	t.Cleanup(kill)
	return kill
}

// TestNoCandidateAsync loses the primary of an asynchronous service whose
// standbys lag behind: no replica is within the RPO budget (none given:
// zero loss), so the hub promotes nobody and says why; an operator's
// failover request accepting data loss promotes the most advanced replica,
// the estimated loss is recorded, and the returning old primary is
// rewound onto the new history, its lost rows gone; what it lost is
// measured before the rewind: as many transactions as acknowledged rows
// went missing.
func TestNoCandidateAsync(t *testing.T) {
	ctx := t.Context()
	fss := startService(t, postgresService("async", 3, 0, "eu-west"))
	old := *fss.Status.Primary
	oldAddr := primaryAddr(fss)
	var standbys []netip.Addr
	for _, r := range fss.Status.ReplicaStatuses {
		if r.Ordinal != old.Ordinal {
			a, _ := netip.ParseAddr(r.PodIP)
			standbys = append(standbys, a)
		}
	}
	w := &writer{service: fss.Name}
	for range 5 {
		if err := w.write(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "the standbys replaying the first rows", func() error {
		for _, a := range standbys {
			rows, err := rowsAt(ctx, a)
			if err != nil || len(rows) < 5 {
				return fmt.Errorf("%w: %v has %d rows, %v", errNotYet, a, len(rows), err)
			}
		}
		return nil
	})
	dropReceived := stallReceivers(t, standbys)
	for range 20 {
		if err := w.write(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "the hub seeing the standbys lag", func() error {
		cur, err := getService(ctx, fss.Name)
		if err != nil {
			return err
		}
		for _, r := range cur.Status.ReplicaStatuses {
			if r.Ordinal != old.Ordinal && (r.LagBytes == nil || *r.LagBytes == 0) {
				return fmt.Errorf("%w: %s-%d lag %v", errNotYet, fss.Name, r.Ordinal, r.LagBytes)
			}
		}
		return nil
	})

	if err := bed.StopCluster(old.Cluster); err != nil {
		t.Fatal(err)
	}
	// What the dead primary had sent may wait in the receivers' sockets;
	// drop it, so the standbys really lack the last rows.
	dropReceived()
	var reason string
	waitFor(t, time.Minute, "NoCandidate", func() error {
		cur, err := getService(ctx, fss.Name)
		if err != nil {
			return err
		}
		c := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ServiceFailingOver)
		if c == nil || c.Reason != v1alpha1.ReasonNoCandidate {
			return fmt.Errorf("%w: condition %+v", errNotYet, c)
		}
		reason = c.Message
		return nil
	})
	t.Logf("FailingOver NoCandidate: %s", reason)
	time.Sleep(2 * leaseTTL)
	cur, err := getService(ctx, fss.Name)
	if err != nil {
		t.Fatal(err)
	}
	if p := cur.Status.Primary; p == nil || p.Epoch != old.Epoch {
		t.Fatalf("primary %+v while no candidate was within the budget, want epoch %d kept", p, old.Epoch)
	}

	patch := client.MergeFrom(cur.DeepCopy())
	cur.Annotations = map[string]string{v1alpha1.AnnotationFailover: "id=lossy-1,acceptDataLoss=true"}
	if err := hubc.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
	promoted := waitPrimary(t, fss.Name, old.Epoch, func(*v1alpha1.PrimaryStatus) bool { return true })
	h := promoted.Status.FailoverHistory
	if len(h) == 0 || !h[0].AcceptedDataLoss || h[0].DataLossBytes == nil || *h[0].DataLossBytes == 0 {
		t.Fatalf("history %+v, want a failover that accepted and recorded data loss", h)
	}
	newAddr := primaryAddr(promoted)
	var kept map[int]bool
	waitFor(t, time.Minute, "a write through the new primary", func() error {
		if err := w.write(ctx); err != nil {
			return err
		}
		kept, err = rowsAt(ctx, newAddr)
		return err
	})
	acked := w.ackedRows()
	lost := 0
	for _, id := range acked[:25] {
		if !kept[id] {
			lost++
		}
	}
	for _, id := range acked[:5] {
		if !kept[id] {
			t.Errorf("row %d, replicated before the stall, is missing", id)
		}
	}
	t.Logf("failover accepting data loss: %d of 20 rows written during the stall lost, estimated %d bytes", lost, *h[0].DataLossBytes)
	if lost == 0 {
		t.Errorf("no row lost, yet the standbys were stalled while 20 rows were acknowledged")
	}

	if err := bed.StartCluster(ctx, old.Cluster); err != nil {
		t.Fatal(err)
	}
	last := acked[len(acked)-1]
	waitFor(t, 3*time.Minute, "the old primary rewound onto the new history", func() error {
		rows, err := rowsAt(ctx, oldAddr)
		if err != nil {
			return err
		}
		if !rows[last] {
			return fmt.Errorf("%w: the old primary lacks row %d written after the failover", errNotYet, last)
		}
		for _, id := range acked[5:25] {
			if rows[id] != kept[id] {
				return fmt.Errorf("row %d: old primary %v, new history %v", id, rows[id], kept[id])
			}
		}
		return nil
	})
	if ok, err := isWritable(ctx, oldAddr); err != nil || ok {
		t.Errorf("old primary writable %v (%v) after rejoining", ok, err)
	}

	// Before rewinding it, the old primary's agent measured what its log
	// held beyond the new history: the hub records it with the failover.
	epoch := promoted.Status.Primary.Epoch
	var rec v1alpha1.FailoverRecord
	waitFor(t, time.Minute, "the measured loss in the failover history", func() error {
		cur, err := getService(ctx, fss.Name)
		if err != nil {
			return err
		}
		for _, r := range cur.Status.FailoverHistory {
			if r.Epoch == epoch {
				rec = r
			}
		}
		if rec.LostTransactions == nil || rec.MeasuredLossBytes == nil || rec.LossMeasuredAt == nil {
			return fmt.Errorf("%w: record of epoch %d: %+v", errNotYet, epoch, rec)
		}
		return nil
	})
	t.Logf("measured loss: %d transactions, %d bytes of log; estimated at promotion %d bytes; %d acknowledged rows lost",
		*rec.LostTransactions, *rec.MeasuredLossBytes, *rec.DataLossBytes, lost)
	if *rec.LostTransactions != int64(lost) {
		t.Errorf("lostTransactions %d, want %d: the acknowledged rows missing on the new primary", *rec.LostTransactions, lost)
	}
	// The candidate's receiver was stalled, so its reported position is
	// the fork, and the old primary's last report was at or before the
	// end of its log: the estimate is a lower bound here.
	if *rec.MeasuredLossBytes < *rec.DataLossBytes || *rec.MeasuredLossBytes == 0 {
		t.Errorf("measuredLossBytes %d, want at least the estimate %d and more than 0", *rec.MeasuredLossBytes, *rec.DataLossBytes)
	}
}
