package dnsserver

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// The benchmark zone of issue 5: 1,000 services x 5 replicas in 3 clusters.
const (
	benchServices = 1000
	benchReplicas = 5
	benchNS       = "bench"
)

var benchClusters = [3]struct{ cluster, region string }{{"eu-1", "eu"}, {"us-1", "us"}, {"ap-1", "ap"}}

func benchService(i int) string { return fmt.Sprintf("s%04d", i) }

func benchAddr(svc, n int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(30 + svc/250), byte(svc % 250), byte(2 + n)})
}

// benchOps returns the benchmark zone as Ops of ten services each (70
// operations, under etcd's default limit of 128 per transaction).
func benchOps(t testing.TB, w *Writer) []Ops {
	t.Helper()
	var batches []Ops
	var cur Ops
	must := func(o Ops, err error) {
		if err != nil {
			t.Fatal(err)
		}
		cur = cur.Add(o)
	}
	for i := range benchServices {
		svc := benchService(i)
		must(w.PutService(benchNS, svc, Service{Ports: []Port{{Name: "pg", Protocol: "tcp", Port: 5432}}}))
		must(w.SetPrimary(benchNS, svc, nil, Primary{Ordinal: 0, Epoch: 1}))
		for n := range benchReplicas {
			c := benchClusters[n%3]
			role := RoleAsyncReplica
			if n == 1 {
				role = RoleSyncStandby
			}
			must(w.PutReplica(benchNS, svc, n, Replica{Cluster: c.cluster, Region: c.region, Role: role, Ready: true,
				Addresses: []netip.Addr{benchAddr(i, n)}}))
		}
		if i%10 == 9 {
			batches, cur = append(batches, cur), Ops{}
		}
	}
	return batches
}

// benchQuery is query i of the mix: 40 % SRV, 40 % per-replica A,
// 10 % service A, 10 % NXDOMAIN.
func benchQuery(i int) (string, uint16) {
	svc := benchService((i * 7919) % benchServices)
	base := svc + "." + benchNS + ".svc." + z
	switch i % 10 {
	case 0, 1, 2, 3:
		return "_pg._tcp." + base, dns.TypeSRV
	case 4, 5, 6, 7:
		return fmt.Sprintf("%s-%d.%s", svc, i%benchReplicas, base), dns.TypeA
	case 8:
		return base, dns.TypeA
	}
	return "nx" + base, dns.TypeA
}

// benchSnapshot builds the benchmark zone as a snapshot.
func benchSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	w, err := NewWriter(DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}
	var changes []Change
	for _, ops := range benchOps(t, w) {
		for _, op := range ops.Then {
			changes = append(changes, Change{Key: string(op.KeyBytes()), Value: op.ValueBytes()})
		}
	}
	snap, errs := NewSnapshot(fixtureConfig()).Apply(1, DefaultPrefix, changes)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return snap
}

// BenchmarkAnswer measures building and packing one answer of the mix,
// in process, without sockets.
func BenchmarkAnswer(b *testing.B) {
	h := NewHandler(fixedSource{snap: benchSnapshot(b)}, nil)
	reqs := make([]*dns.Msg, 1000)
	for i := range reqs {
		name, qtype := benchQuery(i)
		reqs[i] = query{name: name, qtype: qtype, edns: 1232}.msg()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := h.Answer(reqs[i%len(reqs)], false).Pack(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRebuild compares a whole-zone rebuild with the incremental
// rebuild of the one service a primary flip touches.
func BenchmarkRebuild(b *testing.B) {
	w, err := NewWriter(DefaultWriterConfig())
	if err != nil {
		b.Fatal(err)
	}
	var all []Change
	for _, ops := range benchOps(b, w) {
		for _, op := range ops.Then {
			all = append(all, Change{Key: string(op.KeyBytes()), Value: op.ValueBytes()})
		}
	}
	cfg := fixtureConfig()
	b.Run("whole-zone", func(b *testing.B) {
		for b.Loop() {
			NewSnapshot(cfg).Apply(1, DefaultPrefix, all)
		}
	})
	b.Run("one-service", func(b *testing.B) {
		base, _ := NewSnapshot(cfg).Apply(1, DefaultPrefix, all)
		flip, err := w.SetPrimary(benchNS, benchService(500), &Primary{Ordinal: 0, Epoch: 1}, Primary{Ordinal: 1, Epoch: 2})
		if err != nil {
			b.Fatal(err)
		}
		change := []Change{{Key: string(flip.Then[0].KeyBytes()), Value: flip.Then[0].ValueBytes()}}
		for b.Loop() {
			base.Apply(2, DefaultPrefix, change)
		}
	})
}

// discard is a UDP dns.ResponseWriter that packs what it is given, as the
// server would before sending, and drops it.
type discard struct{ recorder }

func (d *discard) WriteMsg(m *dns.Msg) error   { _, err := m.Pack(); return err }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkServeDNS measures what the server does per query of the mix
// besides the socket calls: unpack the query, ServeDNS with metrics, pack.
func BenchmarkServeDNS(b *testing.B) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(fixedSource{snap: benchSnapshot(b)}, m)
	wires := make([][]byte, 1000)
	for i := range wires {
		name, qtype := benchQuery(i)
		if wires[i], err = (query{name: name, qtype: qtype}).msg().Pack(); err != nil {
			b.Fatal(err)
		}
	}
	w := &discard{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req := new(dns.Msg)
		if err := req.Unpack(wires[i%len(wires)]); err != nil {
			b.Fatal(err)
		}
		h.ServeDNS(w, req)
	}
}
