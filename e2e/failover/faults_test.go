package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// traffic is a writer and a writability sampler running against a service
// for the length of a test.
type traffic struct {
	w    *writer
	wr   *localfed.Writability
	stop context.CancelFunc
	// done is waited for after stop: the writer and the sampler returned.
	done sync.WaitGroup
}

// startTraffic starts writing through DNS and sampling the replicas, and
// waits for some acknowledged rows.
func startTraffic(t *testing.T, fss *v1alpha1.FederatedStatefulSet) *traffic {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	t.Cleanup(stop)
	addrs := replicaAddrs(ctx, fss.Name)
	tr := &traffic{w: &writer{service: fss.Name}, wr: &localfed.Writability{}, stop: stop}
	tr.done.Add(2)
	go func() { defer tr.done.Done(); tr.w.run(ctx) }()
	go func() { defer tr.done.Done(); tr.wr.Watch(ctx, func() []netip.Addr { return addrs }) }()
	waitFor(t, 30*time.Second, "rows acknowledged", func() error {
		if n := len(tr.w.ackedRows()); n < 10 {
			return fmt.Errorf("%w: %d rows", errNotYet, n)
		}
		return nil
	})
	return tr
}

// check stops the traffic and fails the test if two replicas were
// writable at once or an acknowledged row is missing on the primary now.
func (tr *traffic) check(t *testing.T, name string) {
	t.Helper()
	tr.stop()
	tr.done.Wait()
	samples, overlaps := tr.wr.Result()
	if len(overlaps) > 0 {
		t.Errorf("two writable primaries at %d of %d samples: %v", len(overlaps), samples, overlaps)
	}
	fss, err := getService(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	have, err := rowsAt(t.Context(), primaryAddr(fss))
	if err != nil {
		t.Fatal(err)
	}
	acked := tr.w.ackedRows()
	for _, id := range acked {
		if !have[id] {
			t.Errorf("acknowledged row %d is missing on the primary", id)
		}
	}
	t.Logf("%d rows acknowledged and present, %d client errors, %d writability samples without overlap", len(acked), tr.w.errs, samples)
}

// waitPrimary waits for a committed primary newer than epoch that the
// accept function likes, and returns the service then.
func waitPrimary(t testing.TB, name string, epoch int64, accept func(*v1alpha1.PrimaryStatus) bool) *v1alpha1.FederatedStatefulSet {
	t.Helper()
	var out *v1alpha1.FederatedStatefulSet
	waitFor(t, 2*time.Minute, "a new primary", func() error {
		cur, err := getService(t.Context(), name)
		if err != nil {
			return err
		}
		p := cur.Status.Primary
		if p == nil || p.Epoch <= epoch || !accept(p) {
			return fmt.Errorf("%w: primary %+v", errNotYet, p)
		}
		out = cur
		return nil
	})
	return out
}

// TestSwitchover moves the primary to another region on request, while a
// client writes: the request succeeds, nothing acknowledged is lost, the
// old primary follows the new one.
func TestSwitchover(t *testing.T) {
	fss := startService(t, postgresService("switch", 3, 1, "eu-west"))
	old := *fss.Status.Primary
	tr := startTraffic(t, fss)
	// Every region's DNS server, sampled during the switchover, may name
	// the old primary with the old epoch or the new one with the new
	// epoch, never a mix: the record flips with the epoch commit.
	dctx, stopDNS := context.WithCancel(t.Context())
	seen := map[string]int{}
	var seenMu sync.Mutex
	dnsDone := make(chan struct{})
	go func() {
		defer close(dnsDone)
		for dctx.Err() == nil {
			for _, server := range dnsAddrs {
				if txt, err := localfed.PrimaryTXT(server, namespace, fss.Name); err == nil {
					seenMu.Lock()
					seen[txt]++
					seenMu.Unlock()
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	patch := client.MergeFrom(fss.DeepCopy())
	fss.Annotations = map[string]string{v1alpha1.AnnotationSwitchover: "id=move-1,to=us-east"}
	if err := hubc.Patch(t.Context(), fss, patch); err != nil {
		t.Fatal(err)
	}
	asked := time.Now()
	cur := waitPrimary(t, fss.Name, old.Epoch, func(p *v1alpha1.PrimaryStatus) bool { return p.Cluster == "us-1" })
	t.Logf("switchover to %s-%d in us-1 committed %v after the request", fss.Name, cur.Status.Primary.Ordinal, time.Since(asked).Round(10*time.Millisecond))
	waitFor(t, time.Minute, "the request Succeeded and the old primary following", func() error {
		cur, err := getService(t.Context(), fss.Name)
		if err != nil {
			return err
		}
		var phase string
		for _, r := range cur.Status.Requests {
			if r.ID == "move-1" {
				phase = string(r.Phase)
			}
		}
		if phase != "Succeeded" {
			return fmt.Errorf("%w: request phase %q", errNotYet, phase)
		}
		for _, r := range cur.Status.ReplicaStatuses {
			if r.Ordinal == old.Ordinal && r.Role != v1alpha1.RoleSyncStandby && r.Role != v1alpha1.RoleAsyncReplica {
				return fmt.Errorf("%w: old primary's role %s", errNotYet, r.Role)
			}
		}
		return nil
	})
	if h := cur.Status.FailoverHistory; len(h) == 0 || h[0].DataLossBytes == nil || *h[0].DataLossBytes != 0 {
		t.Errorf("switchover history %+v, want a record without data loss", h)
	}
	stopDNS()
	<-dnsDone
	np := cur.Status.Primary
	want := map[string]bool{
		fmt.Sprintf("epoch=%d ordinal=%d", old.Epoch, old.Ordinal): true,
		fmt.Sprintf("epoch=%d ordinal=%d", np.Epoch, np.Ordinal):   true,
	}
	for txt, n := range seen {
		if !want[txt] {
			t.Errorf("a DNS server answered %q %d times during the switchover; want only %v", txt, n, want)
		}
	}
	t.Logf("DNS primary TXT answers during the switchover: %v", seen)
	if paths := followPaths(t, old.Cluster, fmt.Sprintf("%s-%d", fss.Name, old.Ordinal)); len(paths) == 0 || slices.ContainsFunc(paths, func(p string) bool { return p != "none" }) {
		t.Errorf("the old primary followed the new one by %v; want no rewind or copy", paths)
	}
	tr.check(t, fss.Name)
}

// followPaths reads, from the agent's log in cluster, how replica came to
// follow a primary each time ("none", "rewind", "basebackup").
func followPaths(t *testing.T, cluster, replica string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bed.Dir(), cluster, localfed.AgentProcess+".log"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for line := range strings.Lines(string(b)) {
		var rec struct{ Msg, Replica, Path string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "Following the primary" && rec.Replica == replica {
			paths = append(paths, rec.Path)
		}
	}
	return paths
}

// TestPartitionSelfFence cuts the primary's region off the federation
// etcd while it keeps running and serving clients: its agent fences the
// primary before the lease can expire, another region's replica is
// promoted, and when the partition heals the old primary follows.
func TestPartitionSelfFence(t *testing.T) {
	fss := startService(t, postgresService("part", 3, 1, "eu-west"))
	old := *fss.Status.Primary
	oldAddr := primaryAddr(fss)
	tr := startTraffic(t, fss)
	fed.PartitionEtcd(old.Cluster)
	cut := time.Now()
	t.Cleanup(func() { fed.Heal(old.Cluster) })
	waitFor(t, 2*leaseTTL, "the cut-off primary fenced", func() error {
		if ok, err := isWritable(t.Context(), oldAddr); err != nil || ok {
			return fmt.Errorf("%w: writable %v, %v", errNotYet, ok, err)
		}
		return nil
	})
	fenced := time.Since(cut)
	cur := waitPrimary(t, fss.Name, old.Epoch, func(p *v1alpha1.PrimaryStatus) bool { return p.Cluster != old.Cluster })
	t.Logf("primary fenced itself %v after the cut (lease TTL %v); %s-%d promoted in %s %v after the cut",
		fenced.Round(10*time.Millisecond), leaseTTL, fss.Name, cur.Status.Primary.Ordinal, cur.Status.Primary.Cluster, time.Since(cut).Round(10*time.Millisecond))
	if fenced >= leaseTTL {
		t.Errorf("fenced %v after the cut, not before the lease TTL %v", fenced, leaseTTL)
	}
	fed.Heal(old.Cluster)
	waitFollowing(t, fss.Name, old.Ordinal)
	tr.check(t, fss.Name)
}

// TestAgentRestart kills the agent of the primary's cluster and starts it
// again at once: it takes its session and the primary lease over, the
// primary stays writable and no failover happens.
func TestAgentRestart(t *testing.T) {
	fss := startService(t, postgresService("restart", 3, 1, "eu-west"))
	old := *fss.Status.Primary
	tr := startTraffic(t, fss)
	if err := bed.StopProcess(old.Cluster, localfed.AgentProcess); err != nil {
		t.Fatal(err)
	}
	if err := bed.StartProcess(old.Cluster, localfed.AgentProcess); err != nil {
		t.Fatal(err)
	}
	acked := len(tr.w.ackedRows())
	time.Sleep(3 * leaseTTL)
	cur, err := getService(t.Context(), fss.Name)
	if err != nil {
		t.Fatal(err)
	}
	if p := cur.Status.Primary; p == nil || p.Epoch != old.Epoch || p.Ordinal != old.Ordinal {
		t.Errorf("primary after the agent restart %+v, want %+v unchanged", p, old)
	}
	if n := len(tr.w.ackedRows()); n <= acked {
		t.Errorf("no write acknowledged in the %v after the restart", 3*leaseTTL)
	}
	tr.check(t, fss.Name)
}

// TestAgentPaused stops the primary's agent (SIGSTOP) past the lease TTL:
// the fence watchdog stops the primary before the lease expires, another
// replica is promoted; resumed, the agent finds its lease gone and the old
// primary follows.
func TestAgentPaused(t *testing.T) {
	fss := startService(t, postgresService("paused", 3, 1, "eu-west"))
	old := *fss.Status.Primary
	oldAddr := primaryAddr(fss)
	tr := startTraffic(t, fss)
	if err := bed.PauseProcess(old.Cluster, localfed.AgentProcess); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	t.Cleanup(func() { _ = bed.ResumeProcess(old.Cluster, localfed.AgentProcess) })
	waitFor(t, 2*leaseTTL, "the watchdog stopping the primary", func() error {
		if ok, err := isWritable(t.Context(), oldAddr); err == nil && ok {
			return fmt.Errorf("%w: still writable", errNotYet)
		}
		return nil
	})
	stopped := time.Since(paused)
	cur := waitPrimary(t, fss.Name, old.Epoch, func(*v1alpha1.PrimaryStatus) bool { return true })
	t.Logf("watchdog stopped the primary %v after the pause; %s-%d promoted %v after it", stopped.Round(10*time.Millisecond),
		fss.Name, cur.Status.Primary.Ordinal, time.Since(paused).Round(10*time.Millisecond))
	if stopped >= leaseTTL {
		t.Errorf("primary writable %v after its agent paused, past the lease TTL %v", stopped, leaseTTL)
	}
	if err := bed.ResumeProcess(old.Cluster, localfed.AgentProcess); err != nil {
		t.Fatal(err)
	}
	waitFollowing(t, fss.Name, old.Ordinal)
	tr.check(t, fss.Name)
}

// TestPrimaryServerCannotStart breaks the primary's server under a live
// agent: its control file is moved away and the server killed, so it
// cannot start again. The agent gives the primary up after
// --primary-give-up, the hub promotes a synchronous standby with nothing
// lost, and once the volume is readable again the old primary rejoins as a
// standby.
func TestPrimaryServerCannotStart(t *testing.T) {
	fss := startService(t, postgresService("broken", 3, 1, "eu-west"))
	old := *fss.Status.Primary
	oldAddr := primaryAddr(fss)
	data := dataDirOf(t, oldAddr)
	tr := startTraffic(t, fss)
	control := filepath.Join(data, "global", "pg_control")
	if err := os.Rename(control, control+".away"); err != nil {
		t.Fatal(err)
	}
	restore := func() error { return os.Rename(control+".away", control) }
	t.Cleanup(func() { _ = restore() })
	if err := testbed.KillPostgres(filepath.Dir(data), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	broken := time.Now()
	cur := waitPrimary(t, fss.Name, old.Epoch, func(p *v1alpha1.PrimaryStatus) bool { return p.Ordinal != old.Ordinal })
	t.Logf("%s-%d promoted in epoch %d, %v after the primary's server broke (give-up %v, lease TTL %v)", fss.Name,
		cur.Status.Primary.Ordinal, cur.Status.Primary.Epoch, time.Since(broken).Round(10*time.Millisecond), primaryGiveUp, leaseTTL)
	if h := cur.Status.FailoverHistory; len(h) == 0 || h[0].DataLossBytes == nil || *h[0].DataLossBytes != 0 {
		t.Errorf("failover history %+v: want the latest failover to have lost nothing", h)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	waitFollowing(t, fss.Name, old.Ordinal)
	tr.check(t, fss.Name)
}

// dataDirOf finds the data directory of the PostgreSQL server listening on
// addr from its command line (-D DIR ... listen_addresses=ADDR).
func dataDirOf(t *testing.T, addr netip.Addr) string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if !slices.Contains(args, "listen_addresses="+addr.String()) {
			continue
		}
		if i := slices.Index(args, "-D"); i >= 0 && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("no PostgreSQL server listens on %s", addr)
	return ""
}

// waitFollowing waits until replica ordinal of service name, an old
// primary, reports as a standby of the new one.
func waitFollowing(t *testing.T, name string, ordinal int32) {
	t.Helper()
	waitFor(t, 2*time.Minute, "the old primary following the new one", func() error {
		cur, err := getService(t.Context(), name)
		if err != nil {
			return err
		}
		for _, r := range cur.Status.ReplicaStatuses {
			if r.Ordinal == ordinal && r.Role != v1alpha1.RoleSyncStandby && r.Role != v1alpha1.RoleAsyncReplica {
				return fmt.Errorf("%w: old primary's role %s", errNotYet, r.Role)
			}
		}
		return nil
	})
}
