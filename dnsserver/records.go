package dnsserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
)

// Role is a replica's role as DNS publishes it. The primary is not a role
// stored on a replica: it is named by the service's Primary record, written
// in the same etcd transaction as the fencing epoch.
type Role string

// The roles of a replica that is not the primary.
const (
	// RoleSyncStandby is a synchronous standby: SRV priority PrioritySync.
	RoleSyncStandby Role = "SyncStandby"
	// RoleAsyncReplica is an asynchronous replica: SRV priority PriorityAsync.
	RoleAsyncReplica Role = "AsyncReplica"
	// RoleFenced is a replica that must not receive traffic (for example a
	// returning old primary); only its per-replica names answer.
	RoleFenced Role = "Fenced"
)

// MaxAddresses bounds the addresses of one replica so that one record can
// never blow up a snapshot or an answer.
const MaxAddresses = 8

// Port is a named port of a service; it gives the SRV name
// _<name>._<protocol>.<svc>.<ns>.svc.<zone>.
type Port struct {
	// Name is a DNS-1123 label of at most 15 characters (an IANA service name).
	Name string `json:"name"`
	// Protocol is "tcp", "udp" or "sctp".
	Protocol string `json:"protocol"`
	// Port is the port number, 1-65535.
	Port uint16 `json:"port"`
}

// Service is the record stored under a service's KindService key.
type Service struct {
	// Ports the replicas listen on; each gives two SRV names.
	Ports []Port `json:"ports,omitempty"`
}

// Primary is the record stored under a service's KindPrimary key: the
// replica that holds the primary role and the fencing epoch it was promoted
// in. It is published as A/AAAA and SRV of primary.<svc>... and as a TXT
// record "epoch=<n>" "ordinal=<n>".
type Primary struct {
	// Ordinal of the primary replica.
	Ordinal int `json:"ordinal"`
	// Epoch is the fencing epoch of the promotion; it only grows.
	Epoch int64 `json:"epoch"`
}

// Replica is the record stored under a replica's KindReplica key.
type Replica struct {
	// Cluster is the member cluster the replica runs in (a DNS-1123 label);
	// it gives the alias <svc>-<n>.<cluster>.<svc>.<ns>.svc.<zone>.
	Cluster string `json:"cluster"`
	// Region of the cluster; SRV weight is larger in the server's own region.
	Region string `json:"region"`
	// Addresses of the replica, IPv4 and IPv6, without zones or duplicates.
	Addresses []netip.Addr `json:"addresses,omitempty"`
	// Role of the replica when it is not the primary.
	Role Role `json:"role"`
	// Ready replicas are in the service-wide A/AAAA and SRV answers.
	Ready bool `json:"ready"`
}

// Validate reports every problem of the service record.
func (s Service) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range s.Ports {
		if !IsLabel(p.Name) || len(p.Name) > 15 {
			errs = append(errs, fmt.Errorf("ports[%d].name %q: not a DNS-1123 label of at most 15 characters", i, p.Name))
		}
		if p.Protocol != "tcp" && p.Protocol != "udp" && p.Protocol != "sctp" {
			errs = append(errs, fmt.Errorf("ports[%d].protocol %q: not tcp, udp or sctp", i, p.Protocol))
		}
		if p.Port == 0 {
			errs = append(errs, fmt.Errorf("ports[%d].port: must be 1-65535", i))
		}
		if id := p.Name + "/" + p.Protocol; seen[id] {
			errs = append(errs, fmt.Errorf("ports[%d]: duplicate %s", i, id))
		} else {
			seen[id] = true
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the primary record.
func (p Primary) Validate() error {
	var errs []error
	if p.Ordinal < 0 || p.Ordinal > MaxOrdinal {
		errs = append(errs, fmt.Errorf("ordinal %d out of [0, %d]", p.Ordinal, MaxOrdinal))
	}
	if p.Epoch < 1 {
		errs = append(errs, fmt.Errorf("epoch %d: must be at least 1", p.Epoch))
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the replica record.
func (r Replica) Validate() error {
	var errs []error
	if !IsLabel(r.Cluster) {
		errs = append(errs, fmt.Errorf("cluster %q: not a DNS-1123 label", r.Cluster))
	}
	if r.Region == "" || len(r.Region) > 63 {
		errs = append(errs, fmt.Errorf("region %q: must be 1-63 characters", r.Region))
	}
	switch r.Role {
	case RoleSyncStandby, RoleAsyncReplica, RoleFenced:
	default:
		errs = append(errs, fmt.Errorf("role %q: not SyncStandby, AsyncReplica or Fenced", r.Role))
	}
	if len(r.Addresses) > MaxAddresses {
		errs = append(errs, fmt.Errorf("%d addresses: at most %d", len(r.Addresses), MaxAddresses))
	}
	seen := map[netip.Addr]bool{}
	for i, a := range r.Addresses {
		switch {
		case !a.IsValid() || a.Zone() != "" || a.Is4In6() || a.IsUnspecified():
			errs = append(errs, fmt.Errorf("addresses[%d] %v: not a plain unicast IPv4 or IPv6 address", i, a))
		case seen[a]:
			errs = append(errs, fmt.Errorf("addresses[%d] %v: duplicate", i, a))
		}
		seen[a] = true
	}
	return errors.Join(errs...)
}

// EncodeService, EncodePrimary and EncodeReplica return the stored form of
// a valid record: deterministic JSON, so equal records give equal bytes and
// a value compare in a transaction works.
func EncodeService(s Service) ([]byte, error) { return encode(s, s.Validate()) }

// EncodePrimary returns the stored form of a valid Primary; see EncodeService.
func EncodePrimary(p Primary) ([]byte, error) { return encode(p, p.Validate()) }

// EncodeReplica returns the stored form of a valid Replica; see EncodeService.
func EncodeReplica(r Replica) ([]byte, error) { return encode(r, r.Validate()) }

// DecodeService parses and validates a stored Service. Unknown fields are
// ignored so that older servers read records of newer writers.
func DecodeService(b []byte) (Service, error) {
	var s Service
	err := decode(b, &s, func() error { return s.Validate() })
	if len(s.Ports) == 0 {
		s.Ports = nil // the stored form omits an empty list
	}
	return s, err
}

// DecodePrimary parses and validates a stored Primary.
func DecodePrimary(b []byte) (Primary, error) {
	var p Primary
	return p, decode(b, &p, func() error { return p.Validate() })
}

// DecodeReplica parses and validates a stored Replica.
func DecodeReplica(b []byte) (Replica, error) {
	var r Replica
	err := decode(b, &r, func() error { return r.Validate() })
	if len(r.Addresses) == 0 {
		r.Addresses = nil // the stored form omits an empty list
	}
	return r, err
}

func encode(v any, invalid error) ([]byte, error) {
	if invalid != nil {
		return nil, fmt.Errorf("encode %T: %w", v, invalid)
	}
	return json.Marshal(v)
}

// maxRecordBytes bounds a stored value; anything larger is not a record.
const maxRecordBytes = 64 << 10

func decode(b []byte, v any, validate func() error) error {
	if len(b) > maxRecordBytes {
		return fmt.Errorf("decode %T: %d bytes exceeds %d", v, len(b), maxRecordBytes)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	if d.More() {
		return fmt.Errorf("decode %T: trailing data", v)
	}
	if err := validate(); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}
