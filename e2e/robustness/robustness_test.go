//go:build robustness

package robustness

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
)

const (
	namespace    = "default"
	syncService  = "rsync"
	asyncService = "rasync"
)

// iteration is what one run of the schedule did and found.
type iteration struct {
	Seed      uint64   `json:"seed"`
	Fault     string   `json:"fault"`
	Target    string   `json:"target"`
	Ops       int      `json:"ops"`
	Ambiguous int      `json:"ambiguous"`
	Failed    int      `json:"failed"`
	Appends   int      `json:"appends"`
	Lost      int      `json:"asyncLost"`
	LossBytes int64    `json:"asyncLossBytesReported"`
	Epochs    int64    `json:"newEpochs"`
	Unavail   float64  `json:"syncUnavailableSeconds"`
	Samples   int      `json:"writabilitySamples"`
	DNSChecks int      `json:"dnsChecks"`
	Anomalies []string `json:"anomalies"`
}

func TestRobustness(t *testing.T) {
	ctx := t.Context()
	kinds := faults
	if *faultKinds != "" {
		kinds = nil
		for k := range strings.SplitSeq(*faultKinds, ",") {
			f, err := faultByKind(strings.TrimSpace(k))
			if err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, f)
		}
	}
	seed := *baseSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano() % 1_000_000)
	}
	async := localfed.PostgresService(namespace, asyncService, 3, 0, "us-east")
	async.Spec.Replication.RPO = &v1alpha1.RPOBudget{MaxLagBytes: ptr(int64(1 << 20))}
	for _, fss := range []*v1alpha1.FederatedStatefulSet{localfed.PostgresService(namespace, syncService, 3, 1, "eu-west"), async} {
		if err := fed.Hub.Create(ctx, fss); err != nil {
			t.Fatal(err)
		}
	}
	if err := converged(ctx, 4*time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{syncService, asyncService} {
		if err := createTables(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}

	var results []iteration
	for i := range *iterations {
		s := seed + uint64(i)
		rng := rand.New(rand.NewPCG(s, s))
		f := kinds[rng.IntN(len(kinds))]
		it := runIteration(t, i, s, f, rng)
		results = append(results, it)
		t.Logf("iteration %d seed %d %s on %s: %d ops (%d ambiguous), %d new epochs, sync unavailable %.1fs, async lost %d (reported %d B), anomalies %v",
			i, s, it.Fault, it.Target, it.Ops, it.Ambiguous, it.Epochs, it.Unavail, it.Lost, it.LossBytes, it.Anomalies)
		for _, a := range it.Anomalies {
			t.Errorf("seed %d (%s): %s — replay: make test-robustness ITER=1 SEED=%d FAULTS=%s", s, it.Fault, a, s, it.Fault)
		}
	}
	summarize(t, results)
}

// runIteration runs one fault of the schedule under load and checks it.
func runIteration(t *testing.T, i int, seed uint64, f fault, rng *rand.Rand) iteration {
	ctx := t.Context()
	it := iteration{Seed: seed, Fault: f.kind}
	before, err := sliceUIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	startEpochs := epochs(ctx)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	h := &history{start: time.Now()}
	app := &appender{}
	var writable localfed.Writability
	dnsc := &dnsCheck{}
	run := func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }
	prefix := "i" + strconv.Itoa(i) + "s" + strconv.FormatUint(seed, 10)
	run(func() { setWorkload(wctx, fed, namespace, syncService, prefix, 4, seed, h) })
	run(func() { app.run(wctx, fed, namespace, asyncService, (i+1)*1_000_000, seed) })
	// Every replica of both services, the addresses read again every
	// second: pods get new addresses when a region restarts.
	var addrMu sync.Mutex
	var addrs []netip.Addr
	var addrsAt time.Time
	replicas := func() []netip.Addr {
		addrMu.Lock()
		defer addrMu.Unlock()
		if time.Since(addrsAt) > time.Second {
			fresh := append(fed.ReplicaAddrs(ctx, namespace, syncService), fed.ReplicaAddrs(ctx, namespace, asyncService)...)
			if len(fresh) > 0 {
				addrs, addrsAt = fresh, time.Now()
			}
		}
		return addrs
	}
	run(func() { writable.Watch(wctx, replicas) })
	run(func() { dnsc.run(wctx) })

	time.Sleep(3 * time.Second)
	fss, err := fed.Service(ctx, namespace, syncService)
	if err != nil || fss.Status.Primary == nil {
		t.Fatalf("synchronous service without a primary before the fault: %v", err)
	}
	it.Target = fss.Status.Primary.Cluster
	injected := time.Now()
	repair, err := f.inject(ctx, fed, it.Target, rng)
	if err != nil {
		t.Fatalf("inject %s: %v", f.kind, err)
	}
	hold := time.Duration(6+rng.IntN(7)) * time.Second
	if f.kind == "agent-pause" {
		hold = 2*leaseTTL + time.Duration(rng.IntN(4))*time.Second
	}
	time.Sleep(hold)
	if err := repair(ctx); err != nil {
		t.Fatalf("repair %s: %v", f.kind, err)
	}
	if err := converged(ctx, 4*time.Minute); err != nil {
		it.Anomalies = append(it.Anomalies, "did not converge after the repair: "+err.Error())
	}
	time.Sleep(2 * time.Second)
	stop()
	wg.Wait()
	end := time.Now()

	h.mu.Lock()
	it.Ops, it.Ambiguous, it.Failed = len(h.ops), h.unknown, h.failed
	ops := slices.Clone(h.ops)
	h.mu.Unlock()
	it.Unavail = h.longestGap(injected, end).Seconds()
	n, overlaps := writable.Result()
	it.Samples = n
	for _, o := range overlaps {
		it.Anomalies = append(it.Anomalies, "two writable primaries at "+o)
	}
	if res := porcupine.CheckOperationsTimeout(setModel, ops, time.Minute); res == porcupine.Illegal {
		it.Anomalies = append(it.Anomalies, fmt.Sprintf("%s: history of %d operations is not linearizable", syncService, len(ops)))
	}
	it.Anomalies = append(it.Anomalies, checkSyncDurable(ctx, ops)...)
	it.Anomalies = append(it.Anomalies, checkAsyncLoss(ctx, app, injected, &it)...)
	checks, bad := dnsc.verify()
	it.DNSChecks = checks
	it.Anomalies = append(it.Anomalies, bad...)
	after, err := sliceUIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for key, uid := range before {
		if after[key] != uid {
			it.Anomalies = append(it.Anomalies, fmt.Sprintf("member object %s deleted or replaced", key))
		}
	}
	endEpochs := epochs(ctx)
	for svc, e := range endEpochs {
		it.Epochs += e - startEpochs[svc]
	}
	app.mu.Lock()
	it.Appends = len(app.acked)
	app.mu.Unlock()
	return it
}

// converged waits until both services have a primary and every replica
// reports a role in the current epoch, with no move in flight.
func converged(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		last = nil
		for _, svc := range []string{syncService, asyncService} {
			fss, err := fed.Service(ctx, namespace, svc)
			if err != nil {
				last = err
				break
			}
			if fss.Status.Primary == nil || len(fss.Status.Moves) > 0 || len(fss.Status.ReplicaStatuses) != int(fss.Spec.Replicas) {
				last = fmt.Errorf("%s: primary %+v, moves %v", svc, fss.Status.Primary, fss.Status.Moves)
				break
			}
			roles := map[v1alpha1.ReplicaRole]int{}
			for _, r := range fss.Status.ReplicaStatuses {
				roles[r.Role]++
			}
			if roles[v1alpha1.RolePrimary] != 1 || roles[v1alpha1.RoleSyncStandby]+roles[v1alpha1.RoleAsyncReplica] != int(fss.Spec.Replicas)-1 ||
				(fss.Spec.Replication.SyncReplicas > 0 && roles[v1alpha1.RoleSyncStandby] == 0) {
				last = fmt.Errorf("%s: roles %v", svc, roles)
				break
			}
			if _, err := localfed.LookupPrimary(fed.DNS[0], namespace, svc); err != nil {
				last = fmt.Errorf("%s: %w", svc, err)
				break
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return last
}

// createTables creates the workload's tables on a service's primary.
func createTables(ctx context.Context, svc string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		addr, err := localfed.LookupPrimary(fed.DNS[0], namespace, svc)
		if err == nil {
			conn, cerr := localfed.Connect(ctx, addr)
			if err = cerr; err == nil {
				_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS kv (id bigserial PRIMARY KEY, k text NOT NULL, v int NOT NULL);
					CREATE INDEX IF NOT EXISTS kv_k ON kv (k);
					CREATE TABLE IF NOT EXISTS readers (client int PRIMARY KEY, n bigint NOT NULL)`)
				_ = conn.Close(ctx)
			}
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("create the tables of %s: %w", svc, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkSyncDurable reads every key of the history from the synchronous
// service's primary: every acknowledged add must be there.
func checkSyncDurable(ctx context.Context, ops []porcupine.Operation) []string {
	addr, err := localfed.LookupPrimary(fed.DNS[0], namespace, syncService)
	if err != nil {
		return []string{"cannot find the synchronous primary to check durability: " + err.Error()}
	}
	conn, err := localfed.Connect(ctx, addr)
	if err != nil {
		return []string{"cannot connect to the synchronous primary: " + err.Error()}
	}
	defer conn.Close(context.Background())
	have := map[string]bool{}
	rows, err := conn.Query(ctx, "SELECT k, v FROM kv")
	if err != nil {
		return []string{"cannot read the synchronous primary: " + err.Error()}
	}
	for rows.Next() {
		var k string
		var v int32
		if err := rows.Scan(&k, &v); err != nil {
			return []string{err.Error()}
		}
		have[k+"/"+strconv.Itoa(int(v))] = true
	}
	var out []string
	for _, op := range ops {
		in := op.Input.(opInput)
		if in.Add && op.Return != int64(^uint64(0)>>1) && !have[in.Key+"/"+strconv.Itoa(in.Val)] {
			out = append(out, fmt.Sprintf("%s: acknowledged add(%s, %d) lost", syncService, in.Key, in.Val))
		}
	}
	return out
}

// checkAsyncLoss counts the asynchronous service's acknowledged rows
// missing on its primary: a loss must have been reported by a failover
// since the fault.
func checkAsyncLoss(ctx context.Context, app *appender, since time.Time, it *iteration) []string {
	addr, err := localfed.LookupPrimary(fed.DNS[0], namespace, asyncService)
	if err != nil {
		return []string{"cannot find the asynchronous primary: " + err.Error()}
	}
	have, err := present(ctx, addr)
	if err != nil {
		return []string{"cannot read the asynchronous primary: " + err.Error()}
	}
	app.mu.Lock()
	for _, id := range app.acked {
		if !have[id] {
			it.Lost++
		}
	}
	app.mu.Unlock()
	fss, err := fed.Service(ctx, namespace, asyncService)
	if err != nil {
		return []string{err.Error()}
	}
	for _, r := range fss.Status.FailoverHistory {
		if r.Time.After(since.Add(-time.Second)) && r.DataLossBytes != nil {
			it.LossBytes += *r.DataLossBytes
		}
	}
	if it.Lost > 0 && it.LossBytes == 0 {
		return []string{fmt.Sprintf("%s: %d acknowledged rows lost and no failover reported a loss", asyncService, it.Lost)}
	}
	return nil
}

// sliceUIDs returns the UIDs of the services' StatefulSet slices in every
// member, by member/name.
func sliceUIDs(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range fed.Bed.Clusters() {
		if c.Hub {
			continue
		}
		rc, err := fed.Bed.RESTConfig(c.Name)
		if err != nil {
			return nil, err
		}
		cl, err := client.New(rc, client.Options{})
		if err != nil {
			return nil, err
		}
		var list appsv1.StatefulSetList
		if err := cl.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return nil, fmt.Errorf("slices in %s: %w", c.Name, err)
		}
		for _, s := range list.Items {
			out[c.Name+"/"+s.Name] = string(s.UID)
		}
	}
	return out, nil
}

// epochs returns each service's stored epoch.
func epochs(ctx context.Context) map[string]int64 {
	out := map[string]int64{}
	for _, svc := range []string{syncService, asyncService} {
		if snap, err := fed.Store.Snapshot(ctx, coord.Service{Namespace: namespace, Name: svc}); err == nil {
			out[svc] = snap.Epoch
		}
	}
	return out
}

// dnsCheck samples every DNS server's serial and primary TXT record and the
// epoch commits in etcd, to check that no server serves a primary older than
// a commit its serial includes.
type dnsCheck struct {
	mu      sync.Mutex
	samples []dnsSample
	commits map[string][]commit // by service
}

type dnsSample struct {
	svc    string
	serial uint32
	epoch  int64
	server string
}

type commit struct {
	epoch int64
	rev   int64
}

func (d *dnsCheck) run(ctx context.Context) {
	d.commits = map[string][]commit{}
	var wg sync.WaitGroup
	for _, svc := range []string{syncService, asyncService} {
		snap, err := fed.Store.Snapshot(ctx, coord.Service{Namespace: namespace, Name: svc})
		if err != nil {
			continue
		}
		d.mu.Lock()
		d.commits[svc] = append(d.commits[svc], commit{epoch: snap.Epoch, rev: snap.Revision})
		d.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wr := range fed.Store.WatchService(ctx, coord.Service{Namespace: namespace, Name: svc}, snap.Revision+1) {
				for _, ev := range wr.Events {
					if ev.Key.Kind != coord.KindEpoch || ev.Deleted {
						continue
					}
					if e, err := strconv.ParseInt(string(ev.Value), 10, 64); err == nil {
						d.mu.Lock()
						d.commits[svc] = append(d.commits[svc], commit{epoch: e, rev: ev.Revision})
						d.mu.Unlock()
					}
				}
			}
		}()
	}
	for ctx.Err() == nil {
		for _, server := range fed.DNS {
			r, err := localfed.Ask(server, localfed.Zone, dns.TypeSOA)
			if err != nil || len(r.Answer) == 0 {
				continue
			}
			soa, ok := r.Answer[0].(*dns.SOA)
			if !ok {
				continue
			}
			for _, svc := range []string{syncService, asyncService} {
				txt, err := localfed.PrimaryTXT(server, namespace, svc)
				if err != nil {
					continue
				}
				var e, n int64
				if _, err := fmt.Sscanf(txt, "epoch=%d ordinal=%d", &e, &n); err == nil {
					d.mu.Lock()
					d.samples = append(d.samples, dnsSample{svc: svc, serial: soa.Serial, epoch: e, server: server})
					d.mu.Unlock()
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
}

// verify returns how many samples were checked and the violations.
func (d *dnsCheck) verify() (int, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var bad []string
	for _, s := range d.samples {
		var want int64
		for _, c := range d.commits[s.svc] {
			// The serial is the revision of the server's snapshot: a commit
			// at revision rev is in every snapshot whose serial is not
			// before SerialOf(rev).
			if !dnsserver.SerialLess(s.serial, dnsserver.SerialOf(c.rev)) {
				want = max(want, c.epoch)
			}
		}
		if s.epoch < want {
			bad = append(bad, fmt.Sprintf("DNS %s answered epoch %d for %s at serial %d, after epoch %d was committed within it", s.server, s.epoch, s.svc, s.serial, want))
		}
	}
	return len(d.samples), bad
}

// summarize logs the run's figures and writes the report.
func summarize(t *testing.T, results []iteration) {
	byKind := map[string][]float64{}
	ops, anomalies, kills := 0, 0, 0
	for _, it := range results {
		byKind[it.Fault] = append(byKind[it.Fault], it.Unavail)
		ops += it.Ops
		anomalies += len(it.Anomalies)
		if it.Fault == "region-kill" || it.Fault == "hub-kill-mid-failover" {
			kills++
		}
	}
	var lines []string
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		v := byKind[k]
		sort.Float64s(v)
		lines = append(lines, fmt.Sprintf("%s ×%d: sync unavailable p50 %.1fs max %.1fs", k, len(v), v[len(v)/2], v[len(v)-1]))
	}
	t.Logf("robustness: %d iterations, %d region kills, %d operations checked, %d anomalies\n  %s",
		len(results), kills, ops, anomalies, strings.Join(lines, "\n  "))
	if *reportFile != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*reportFile, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
