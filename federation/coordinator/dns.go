package coordinator

import (
	"fmt"
	"maps"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/replication/failover"
)

// records is the DNS records of one service as etcd holds them or should:
// the stored value by etcd key.
type records map[string]string

// desiredRecords returns the service and replica records the view calls
// for: every placed replica with an address, with its cluster, region,
// readiness and role (from s; nil for a service without a primary). The
// primary record is not among them: it changes only in promotions.
func desiredRecords(w *dnsserver.Writer, ns string, v *view, s *failover.State) (records, error) {
	out := records{}
	if !v.dns.enabled {
		return out, nil
	}
	ops, err := w.PutService(ns, v.name, dnsserver.Service{Ports: v.dns.ports})
	if err != nil {
		return nil, fmt.Errorf("service record of %s/%s: %w", ns, v.name, err)
	}
	add(out, ops)
	for _, p := range v.placed {
		if len(p.addrs) == 0 || p.region == "" {
			continue
		}
		ops, err := w.PutReplica(ns, v.name, p.ordinal, replicaRecord(v, s, &p))
		if err != nil {
			return nil, fmt.Errorf("record of replica %d of %s/%s: %w", p.ordinal, ns, v.name, err)
		}
		add(out, ops)
	}
	return out, nil
}

// replicaRecord is the DNS record of one placed replica.
func replicaRecord(v *view, s *failover.State, p *placed) dnsserver.Replica {
	return dnsserver.Replica{Cluster: p.cluster, Region: p.region, Addresses: p.addrs,
		Role: dnsRole(s, replicaName(v.name, p.ordinal)), Ready: p.ready || v.dns.publishNotReady}
}

// dnsRole is a replica's DNS role: Fenced for a fenced replica (it leaves
// the service-wide answers), SyncStandby for a synchronous standby, else
// AsyncReplica. The primary's own record keeps a standby role: DNS names
// it primary through the primary record.
func dnsRole(s *failover.State, name string) dnsserver.Role {
	if s == nil {
		return dnsserver.RoleAsyncReplica
	}
	r := s.Replica(name)
	switch {
	case r == nil:
		return dnsserver.RoleAsyncReplica
	case r.Fenced || r.Role == failover.RoleFenced:
		return dnsserver.RoleFenced
	case r.Role == failover.RoleSyncStandby || r.SyncAcked > 0:
		return dnsserver.RoleSyncStandby
	}
	return dnsserver.RoleAsyncReplica
}

// add files the puts of ops into recs.
func add(recs records, ops dnsserver.Ops) {
	for _, op := range ops.Then {
		if op.IsPut() {
			recs[string(op.KeyBytes())] = string(op.ValueBytes())
		}
	}
}

// diff returns the operations that turn have into want for the service's
// replica and service records: puts of what differs, deletes of what is
// no longer wanted. Keys outside the service's replica and service
// records (the primary record) are never touched.
func diff(prefix, ns, svc string, have, want records) dnsserver.Ops {
	var ops dnsserver.Ops
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if have[k] != want[k] {
			ops.Then = append(ops.Then, clientv3.OpPut(k, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[k]; ok {
			continue
		}
		if key, err := dnsserver.ParseEtcdKey(prefix, k); err == nil && key.Namespace == ns && key.Service == svc && key.Kind != dnsserver.KindPrimary {
			ops.Then = append(ops.Then, clientv3.OpDelete(k))
		}
	}
	return ops
}

// putOps is one put, as a transaction's operations.
func putOps(key, value string) []clientv3.Op { return []clientv3.Op{clientv3.OpPut(key, value)} }

// applied updates have with the writes of ops.
func applied(have records, ops dnsserver.Ops) {
	for _, op := range ops.Then {
		switch {
		case op.IsPut():
			have[string(op.KeyBytes())] = string(op.ValueBytes())
		case op.IsDelete() && op.RangeBytes() == nil:
			delete(have, string(op.KeyBytes()))
		}
	}
}
