package failover

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
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
func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
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

// lookupPrimary asks the federation's first DNS server for the address of
// the service's primary.
func lookupPrimary(name string) (netip.Addr, error) { return lookupPrimaryAt(dnsAddr, name) }

// lookupPrimaryAt asks the DNS server at server for the address of the
// service's primary.
func lookupPrimaryAt(server, name string) (netip.Addr, error) {
	r, err := ask(server, primaryName(name), dns.TypeA)
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

// primaryTXT asks the DNS server at server for the epoch and ordinal of the
// service's primary (its TXT record).
func primaryTXT(server, name string) (string, error) {
	r, err := ask(server, primaryName(name), dns.TypeTXT)
	if err != nil {
		return "", err
	}
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			return strings.Join(txt.Txt, " "), nil
		}
	}
	return "", fmt.Errorf("no primary TXT: rcode %s", dns.RcodeToString[r.Rcode])
}

// primaryName is the DNS name of the service's primary.
func primaryName(name string) string {
	return fmt.Sprintf("primary.%s.%s.svc.fedstate.local.", name, namespace)
}

// ask sends one query to the DNS server at server.
func ask(server, qname string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(qname, qtype)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(q, server)
	return r, err
}

// connect opens a session to the server at addr as the superuser.
func connect(ctx context.Context, addr netip.Addr) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return pgx.Connect(cctx, fmt.Sprintf("postgres://postgres@%s:5432/postgres?sslmode=disable&connect_timeout=2", addr))
}

// writer is a client writing numbered rows through the DNS name of the
// primary, one statement per row, recording which were acknowledged.
type writer struct {
	service string
	mu      sync.Mutex
	acked   []int
	next    int
	errs    int
	// firstErr and recovered time the outage clients saw.
	firstErr, recovered time.Time
}

// write tries to insert the next row once: resolve, connect, insert.
func (w *writer) write(ctx context.Context) error {
	addr, err := lookupPrimary(w.service)
	if err != nil {
		return err
	}
	conn, err := connect(ctx, addr)
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
	w.mu.Unlock()
	return nil
}

// run writes until ctx ends, pausing between rows.
func (w *writer) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.write(ctx)
		w.mu.Lock()
		switch {
		case err != nil:
			w.errs++
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

// ackedRows returns the rows acknowledged so far.
func (w *writer) ackedRows() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

// rowsAt reads every row id the server at addr holds.
func rowsAt(ctx context.Context, addr netip.Addr) (map[int]bool, error) {
	conn, err := connect(ctx, addr)
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
	for ctx.Err() == nil {
		var writable []netip.Addr
		for _, a := range addrs() {
			if ok, err := isWritable(ctx, a); err == nil && ok {
				writable = append(writable, a)
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
	conn, err := connect(ctx, addr)
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
