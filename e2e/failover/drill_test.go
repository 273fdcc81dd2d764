package failover

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill"
)

// TestDrill runs a FailoverDrill of each kind, and one aborted, on one
// PostgreSQL service of the federation (three replicas, one per region,
// a synchronous standby, the primary in eu-west), with the hub's client
// traffic writing through the federation's DNS. Each drill starts and
// ends with the service in its original shape: the first primary
// writable and named by DNS, every replica ready and following it.
func TestDrill(t *testing.T) {
	fss := startService(t, postgresService("drill", 3, 1, "eu-west"))
	orig := originalOf(t, fss)

	t.Run("Switchover", func(t *testing.T) {
		orig.wait(t)
		d := runDrill(t, "switchover", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillSwitchover, TargetRegion: "us-east"}, nil)
		checkPassed(t, d, drill.PhaseHold, drill.PhaseFailback)
		if moved := primaryCluster(t, d, 0); moved != "us-1" {
			t.Errorf("the switchover moved the primary to %q, want us-1 (region us-east)", moved)
		}
		orig.wait(t)
	})

	t.Run("RegionOutage", func(t *testing.T) {
		orig.wait(t)
		var holds, taintedInHold int
		inHold := map[string]bool{} // clusters of the primary during the hold
		observe := func(d *v1alpha1.FailoverDrill) {
			if d.Status.Step != v1alpha1.DrillStepHold {
				return
			}
			cur, err := getService(t.Context(), fss.Name)
			tainted := slices.ContainsFunc(clusterTaints(t, orig.cluster), isDrillTaint)
			// Count the sample only if the drill still holds after it was
			// taken: the hold may end between the reads.
			var again v1alpha1.FailoverDrill
			if gerr := hubc.Get(t.Context(), client.ObjectKeyFromObject(d), &again); gerr != nil || again.Status.Step != v1alpha1.DrillStepHold {
				return
			}
			holds++
			if err == nil && cur.Status.Primary != nil {
				inHold[cur.Status.Primary.Cluster] = true
			}
			if tainted {
				taintedInHold++
			}
		}
		d := runDrill(t, "outage", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillRegionOutage}, observe)
		checkPassed(t, d, drill.PhaseHold, drill.PhaseFailback)
		if d.Status.TargetRegion != "eu-west" || !slices.Equal(d.Status.TaintedClusters, []string{orig.cluster}) {
			t.Errorf("target region %q, tainted %v; want eu-west and [%s]", d.Status.TargetRegion, d.Status.TaintedClusters, orig.cluster)
		}
		if moved := primaryCluster(t, d, 0); moved == "" || moved == orig.cluster {
			t.Errorf("the first switchover moved the primary to cluster %q, want one outside eu-west", moved)
		}
		if holds == 0 || taintedInHold != holds || len(inHold) != 1 || inHold[orig.cluster] {
			t.Errorf("during the hold (%d samples): primary in %v, %s tainted in %d; want one cluster outside eu-west, tainted throughout",
				holds, inHold, orig.cluster, taintedInHold)
		}
		checkUntainted(t)
		orig.wait(t)
	})

	t.Run("Failback", func(t *testing.T) {
		orig.wait(t)
		// The primary ends up elsewhere (as after a failover) ...
		moveTo(t, fss.Name, "drill-away", "us-east")
		// ... and the drill brings it back to its region, once.
		d := runDrill(t, "failback", v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillFailback, TargetRegion: "eu-west"}, nil)
		checkPassed(t, d)
		if len(d.Status.Requests) != 1 {
			t.Errorf("requests %+v, want one", d.Status.Requests)
		}
		orig.wait(t)
	})

	t.Run("Abort", func(t *testing.T) {
		orig.wait(t)
		// No switchover completes within a millisecond: the criterion
		// holds at the first look after the request.
		spec := v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillRegionOutage,
			Abort: v1alpha1.DrillAbort{MaxRTO: &metav1.Duration{Duration: time.Millisecond}}}
		d := runDrill(t, "abort", spec, nil)
		if d.Status.Phase != v1alpha1.DrillAborted || d.Status.Verdict != v1alpha1.VerdictAborted || !strings.Contains(d.Status.Reason, "maxRTO") {
			t.Errorf("phase %s, verdict %s (%s); want Aborted on maxRTO", d.Status.Phase, d.Status.Verdict, d.Status.Reason)
		}
		if d.Status.RPOTransactions == nil || *d.Status.RPOTransactions != 0 {
			t.Errorf("rpoTransactions %v, want 0: reverting loses nothing", d.Status.RPOTransactions)
		}
		checkReport(t, d.Status.ReportPath)
		checkUntainted(t)
		orig.wait(t)
		w := &writer{service: fss.Name}
		if err := w.write(t.Context()); err != nil {
			t.Errorf("a write through DNS after the aborted drill: %v", err)
		}
	})
}

// original is a service's first primary: where every drill must leave it.
type original struct {
	service string
	ordinal int32
	cluster string
	addr    netip.Addr
}

// originalOf records fss's primary.
func originalOf(t *testing.T, fss *v1alpha1.FederatedStatefulSet) original {
	t.Helper()
	o := original{service: fss.Name, ordinal: fss.Status.Primary.Ordinal, cluster: fss.Status.Primary.Cluster, addr: primaryAddr(fss)}
	if !o.addr.IsValid() {
		t.Fatalf("the primary of %s has no address: %+v", fss.Name, fss.Status.ReplicaStatuses)
	}
	return o
}

// wait waits until the service is in its original shape, as its clients
// see it: every replica ready and following the original primary, which
// every region's DNS server names and which alone accepts writes.
func (o original) wait(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	waitFor(t, 2*time.Minute, fmt.Sprintf("%s-%d primary again, every replica ready", o.service, o.ordinal), func() error {
		cur, err := getService(ctx, o.service)
		if err != nil {
			return err
		}
		if err := steady(cur); err != nil {
			return err
		}
		if p := cur.Status.Primary; p.Ordinal != o.ordinal || p.Cluster != o.cluster {
			return fmt.Errorf("%w: primary %+v", errNotYet, p)
		}
		for _, r := range cur.Status.ReplicaStatuses {
			if !r.Ready {
				return fmt.Errorf("%w: %s-%d not ready", errNotYet, o.service, r.Ordinal)
			}
		}
		for _, server := range dnsAddrs {
			if addr, err := localfed.LookupPrimary(server, namespace, o.service); err != nil || addr != o.addr {
				return fmt.Errorf("%w: DNS server %s names %v (%v), want %v", errNotYet, server, addr, err, o.addr)
			}
		}
		for _, a := range replicaAddrs(ctx, o.service) {
			if ok, err := isWritable(ctx, a); err != nil || ok != (a == o.addr) {
				return fmt.Errorf("%w: %v writable %v (%v)", errNotYet, a, ok, err)
			}
		}
		return nil
	})
}

// moveTo asks the coordinator for a switchover of the service to target
// and waits until it succeeded.
func moveTo(t *testing.T, service, id, target string) {
	t.Helper()
	fss, err := getService(t.Context(), service)
	if err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(fss.DeepCopy())
	if fss.Annotations == nil {
		fss.Annotations = map[string]string{}
	}
	fss.Annotations[v1alpha1.AnnotationSwitchover] = "id=" + id + ",to=" + target
	if err := hubc.Patch(t.Context(), fss, patch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "switchover "+id+" to "+target, func() error {
		cur, err := getService(t.Context(), service)
		if err != nil {
			return err
		}
		for _, r := range cur.Status.Requests {
			if r.ID == id && r.Phase == v1alpha1.RequestSucceeded {
				return steady(cur)
			}
			if r.ID == id && (r.Phase == v1alpha1.RequestFailed || r.Phase == v1alpha1.RequestRefused) {
				t.Fatalf("switchover %s to %s: %s: %s", id, target, r.Phase, r.Message)
			}
		}
		return fmt.Errorf("%w: requests %+v", errNotYet, cur.Status.Requests)
	})
}
