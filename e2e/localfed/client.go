package localfed

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// Zone is the DNS zone of the local federation.
const Zone = "fedstate.local."

// PostgresService is a PrimaryReplica PostgreSQL service of replicas spread
// over the regions, each with one claim for its data, the first primary in
// primaryRegion, syncReplicas synchronous standbys in other regions and
// automatic failover without a detection grace.
func PostgresService(ns, name string, replicas, syncReplicas int32, primaryRegion string) *v1alpha1.FederatedStatefulSet {
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
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

// Service reads a service's current state from the hub.
func (f *Federation) Service(ctx context.Context, ns, name string) (*v1alpha1.FederatedStatefulSet, error) {
	var fss v1alpha1.FederatedStatefulSet
	err := f.Hub.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &fss)
	return &fss, err
}

// ReplicaAddrs returns the pod addresses of a service's replicas.
func (f *Federation) ReplicaAddrs(ctx context.Context, ns, name string) []netip.Addr {
	fss, err := f.Service(ctx, ns, name)
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

// PrimaryName is the DNS name of a service's primary.
func PrimaryName(ns, name string) string {
	return fmt.Sprintf("primary.%s.%s.svc.%s", name, ns, Zone)
}

// LookupPrimary asks the DNS server at server for the address of the
// service's primary.
func LookupPrimary(server, ns, name string) (netip.Addr, error) {
	r, err := Ask(server, PrimaryName(ns, name), dns.TypeA)
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

// PrimaryTXT asks the DNS server at server for the TXT record of the
// service's primary: "epoch=<e> ordinal=<n>".
func PrimaryTXT(server, ns, name string) (string, error) {
	r, err := Ask(server, PrimaryName(ns, name), dns.TypeTXT)
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

// Ask sends one query to the DNS server at server.
func Ask(server, qname string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(qname, qtype)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(q, server)
	return r, err
}

// PGPort is the port of the replicas' servers at their pod addresses.
const PGPort = 5432

// Connect opens a session to the PostgreSQL server of a replica at addr as
// the superuser (trusted from loopback in the local federation).
func Connect(ctx context.Context, addr netip.Addr) (*pgx.Conn, error) {
	return ConnectTo(ctx, netip.AddrPortFrom(addr, PGPort).String())
}

// ConnectTo opens a session to the PostgreSQL server at host:port as the
// superuser.
func ConnectTo(ctx context.Context, hostPort string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return pgx.Connect(cctx, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable&connect_timeout=2", hostPort))
}

// IsWritable reports whether the replica's server at addr is a primary
// whose new sessions may write (not in recovery, not fenced read-only).
func IsWritable(ctx context.Context, addr netip.Addr) (bool, error) {
	return IsWritableAt(ctx, netip.AddrPortFrom(addr, PGPort).String())
}

// IsWritableAt is IsWritable for the server at host:port.
func IsWritableAt(ctx context.Context, hostPort string) (bool, error) {
	ok, _, err := writableAt(ctx, hostPort)
	return ok, err
}

// writableAt reports whether the server at host:port accepts writes, and
// its database system identifier: the replicas of one service share it,
// and no two services do.
func writableAt(ctx context.Context, hostPort string) (bool, int64, error) {
	conn, err := ConnectTo(ctx, hostPort)
	if err != nil {
		return false, 0, err
	}
	defer conn.Close(context.Background())
	var recovery bool
	var readOnly string
	var system int64
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only'), system_identifier FROM pg_control_system()").Scan(&recovery, &readOnly, &system); err != nil {
		return false, 0, err
	}
	return !recovery && readOnly == "off", system, nil
}

// Writability samples servers and records every moment when two servers
// of the same database (the same system identifier: replicas of one
// service) accept writes. Pod addresses are given back and handed out
// again when a region restarts, so an address alone does not say which
// service a server belongs to.
type Writability struct {
	mu       sync.Mutex
	samples  int
	overlaps []string
}

// Watch samples the replicas' servers at the addresses addrs returns,
// every 50 ms, until ctx ends.
func (w *Writability) Watch(ctx context.Context, addrs func() []netip.Addr) {
	w.WatchHosts(ctx, func() []string {
		var out []string
		for _, a := range addrs() {
			out = append(out, netip.AddrPortFrom(a, PGPort).String())
		}
		return out
	})
}

// WatchHosts samples the servers at the host:port pairs hosts returns,
// every 50 ms, until ctx ends.
func (w *Writability) WatchHosts(ctx context.Context, hosts func() []string) {
	for ctx.Err() == nil {
		writable := map[int64][]string{}
		for _, h := range hosts() {
			if ok, system, err := writableAt(ctx, h); err == nil && ok {
				writable[system] = append(writable[system], h)
			}
		}
		w.mu.Lock()
		w.samples++
		for system, hs := range writable {
			if len(hs) > 1 {
				w.overlaps = append(w.overlaps, fmt.Sprintf("%s: %v writable (database %d)", time.Now().Format(time.StampMilli), hs, system))
			}
		}
		w.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

// Result returns how many samples were taken and the overlaps seen.
func (w *Writability) Result() (samples int, overlaps []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples, append([]string(nil), w.overlaps...)
}
