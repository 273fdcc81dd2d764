package failover

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

const namespace = "default"

// waitFor polls check every 200 ms until it returns nil, failing the test
// with its last error after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// postgresService is a PrimaryReplica PostgreSQL service of replicas
// spread over the three regions, each with one claim for its data, the
// first primary in primaryRegion.
func postgresService(name string, replicas, syncReplicas int32, primaryRegion string) *v1alpha1.FederatedStatefulSet {
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas: replicas,
			Ports:    []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:15"}}},
				},
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
					ObjectMeta: metav1.ObjectMeta{Name: "data"},
					Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceStorage: resource.MustParse("1Gi")}},
					},
				}},
			},
			Placement: v1alpha1.Placement{
				SpreadConstraints: []v1alpha1.SpreadConstraint{{TopologyKey: "region", MaxSkew: 1}},
				PrimaryRegions:    []string{primaryRegion},
			},
			Replication: &v1alpha1.Replication{
				Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL,
				SyncReplicas: syncReplicas, SyncReplicaScope: v1alpha1.SyncOtherRegion,
			},
			Failover: &v1alpha1.Failover{Mode: v1alpha1.FailoverAutomatic,
				DetectionGracePeriod: &metav1.Duration{Duration: 0}},
		},
	}
}

// getService reads the service's current state from the hub.
func getService(ctx context.Context, name string) (*v1alpha1.FederatedStatefulSet, error) {
	var fss v1alpha1.FederatedStatefulSet
	err := hubc.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &fss)
	return &fss, err
}

// lookupPrimary asks the federation's DNS server for the primary of the
// service: the address and the epoch in its TXT record.
func lookupPrimary(name string) (netip.Addr, error) {
	q := new(dns.Msg)
	q.SetQuestion(fmt.Sprintf("primary.%s.%s.svc.fedstate.local.", name, namespace), dns.TypeA)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(q, dnsAddr)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			addr, _ := netip.AddrFromSlice(a.A.To4())
			return addr, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no primary address: rcode %s", dns.RcodeToString[r.Rcode])
}

// pgPort is the port of the replicas' servers at their pod addresses.
const pgPort = 5432

// connect opens a session to the server at addr as the superuser.
func connect(ctx context.Context, addr netip.Addr) (*pgx.Conn, error) {
	return connectTo(ctx, netip.AddrPortFrom(addr, pgPort).String())
}

// connectTo opens a session to the server at host:port as the superuser.
func connectTo(ctx context.Context, hostPort string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return pgx.Connect(cctx, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable&connect_timeout=2", hostPort))
}

// writer is a client writing numbered rows through the DNS name of the
// primary, one statement per row, recording which were acknowledged and
// when.
type writer struct {
	service string
	// locate, when set, finds the primary's host:port instead of the DNS
	// name of service.
	locate func(context.Context) (string, error)
	mu     sync.Mutex
	acked  []int
	// ackedAt[i] is when acked[i] was acknowledged.
	ackedAt []time.Time
	next    int
	errs    int
	// firstErr and recovered time the outage clients saw.
	firstErr, recovered time.Time
	// lastErr is the error of the last write that failed.
	lastErr error
}

// write tries to insert the next row once: resolve, connect, insert.
func (w *writer) write(ctx context.Context) error {
	hostPort, err := w.primary(ctx)
	if err != nil {
		return err
	}
	conn, err := connectTo(ctx, hostPort)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	w.mu.Lock()
	id := w.next
	w.next++
	w.mu.Unlock()
	ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := conn.Exec(ictx, "INSERT INTO rows (id) VALUES ($1)", id); err != nil {
		return err
	}
	w.mu.Lock()
	w.acked = append(w.acked, id)
	w.ackedAt = append(w.ackedAt, time.Now())
	w.mu.Unlock()
	return nil
}

// primary finds the host:port of the primary: with locate if set, else
// through the DNS name of the service.
func (w *writer) primary(ctx context.Context) (string, error) {
	if w.locate != nil {
		return w.locate(ctx)
	}
	addr, err := lookupPrimary(w.service)
	if err != nil {
		return "", err
	}
	return netip.AddrPortFrom(addr, pgPort).String(), nil
}

// run writes until ctx ends, pausing between rows.
func (w *writer) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.write(ctx)
		w.mu.Lock()
		switch {
		case err != nil:
			w.errs++
			w.lastErr = err
			if w.firstErr.IsZero() || !w.recovered.IsZero() {
				w.firstErr, w.recovered = time.Now(), time.Time{}
			}
		case !w.firstErr.IsZero() && w.recovered.IsZero():
			w.recovered = time.Now()
		}
		w.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

// lastError returns the error of the last write that failed, if any.
func (w *writer) lastError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// ackedRows returns the rows acknowledged so far.
func (w *writer) ackedRows() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

// ackGap returns when the first row acknowledged at or after t was
// acknowledged, and when the row before it was: the outage a client saw
// around t. ok is false while no row was acknowledged at or after t, or
// none before.
func (w *writer) ackGap(t time.Time) (before, after time.Time, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, at := range w.ackedAt {
		if !at.Before(t) {
			if i == 0 {
				return time.Time{}, time.Time{}, false
			}
			return w.ackedAt[i-1], at, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// rowsAt reads every row id the server at addr holds.
func rowsAt(ctx context.Context, addr netip.Addr) (map[int]bool, error) {
	return rowsAtHost(ctx, netip.AddrPortFrom(addr, pgPort).String())
}

// rowsAtHost reads every row id the server at host:port holds.
func rowsAtHost(ctx context.Context, hostPort string) (map[int]bool, error) {
	conn, err := connectTo(ctx, hostPort)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT id FROM rows")
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, id := range ids {
		out[int(id)] = true
	}
	return out, nil
}

// writability samples every replica's server and records any moment when
// two of them accept writes.
type writability struct {
	mu       sync.Mutex
	samples  int
	overlaps []string
}

// watch samples the servers at the addresses addrs returns until ctx ends.
func (wr *writability) watch(ctx context.Context, addrs func() []netip.Addr) {
	wr.watchHosts(ctx, func() []string {
		var out []string
		for _, a := range addrs() {
			out = append(out, netip.AddrPortFrom(a, pgPort).String())
		}
		return out
	})
}

// watchHosts samples the servers at the host:port pairs hosts returns
// until ctx ends.
func (wr *writability) watchHosts(ctx context.Context, hosts func() []string) {
	for ctx.Err() == nil {
		var writable []string
		for _, h := range hosts() {
			if ok, err := isWritableAt(ctx, h); err == nil && ok {
				writable = append(writable, h)
			}
		}
		wr.mu.Lock()
		wr.samples++
		if len(writable) > 1 {
			wr.overlaps = append(wr.overlaps, fmt.Sprintf("%s: %v writable", time.Now().Format(time.StampMilli), writable))
		}
		wr.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

// isWritable reports whether the server at addr is a primary whose new
// sessions may write (not in recovery, not fenced read-only).
func isWritable(ctx context.Context, addr netip.Addr) (bool, error) {
	return isWritableAt(ctx, netip.AddrPortFrom(addr, pgPort).String())
}

// isWritableAt is isWritable for the server at host:port.
func isWritableAt(ctx context.Context, hostPort string) (bool, error) {
	conn, err := connectTo(ctx, hostPort)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	var recovery bool
	var readOnly string
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')").Scan(&recovery, &readOnly); err != nil {
		return false, err
	}
	return !recovery && readOnly == "off", nil
}

// replicaAddrs returns the pod addresses of the service's replicas.
func replicaAddrs(ctx context.Context, name string) []netip.Addr {
	fss, err := getService(ctx, name)
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, r := range fss.Status.ReplicaStatuses {
		if a, err := netip.ParseAddr(r.PodIP); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// errNotYet is what a wait's check returns while the state is not there.
var errNotYet = errors.New("not yet")
