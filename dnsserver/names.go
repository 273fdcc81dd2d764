package dnsserver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind says which record of a service an etcd key holds.
type Kind int

// The kinds of key, one per record of a service.
const (
	// KindService holds the service's ports (Service).
	KindService Kind = iota + 1
	// KindPrimary holds the current primary and its fencing epoch (Primary).
	KindPrimary
	// KindReplica holds one replica's placement, addresses and role (Replica).
	KindReplica
)

// String returns the key segment of the kind.
func (k Kind) String() string {
	switch k {
	case KindService:
		return "service"
	case KindPrimary:
		return "primary"
	case KindReplica:
		return "replicas"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MaxOrdinal is the largest replica ordinal a key or name may carry; it
// matches the int32 ordinals of a StatefulSet.
const MaxOrdinal = 1<<31 - 1

// ErrBadKey is returned when an etcd key or a DNS name does not follow the
// layout of docs/dns.md.
var ErrBadKey = errors.New("dnsserver: key or name outside the layout")

// Key identifies one record of one service: the unit stored under one etcd
// key and the unit a snapshot rebuilds.
type Key struct {
	// Namespace of the FederatedStatefulSet, a DNS-1123 label.
	Namespace string
	// Service is the FederatedStatefulSet's name, a DNS-1123 label.
	Service string
	// Kind of record.
	Kind Kind
	// Ordinal of the replica; zero unless Kind is KindReplica.
	Ordinal int
}

// Validate reports whether the key can be stored and named.
func (k Key) Validate() error {
	var errs []error
	if !IsLabel(k.Namespace) {
		errs = append(errs, fmt.Errorf("namespace %q is not a DNS-1123 label", k.Namespace))
	}
	if !IsLabel(k.Service) {
		errs = append(errs, fmt.Errorf("service %q is not a DNS-1123 label", k.Service))
	}
	switch k.Kind {
	case KindService, KindPrimary:
		if k.Ordinal != 0 {
			errs = append(errs, fmt.Errorf("%s key with ordinal %d", k.Kind, k.Ordinal))
		}
	case KindReplica:
		if k.Ordinal < 0 || k.Ordinal > MaxOrdinal {
			errs = append(errs, fmt.Errorf("ordinal %d out of [0, %d]", k.Ordinal, MaxOrdinal))
		} else if len(replicaLabel(k.Service, k.Ordinal)) > 63 {
			errs = append(errs, fmt.Errorf("replica name %q longer than 63 characters", replicaLabel(k.Service, k.Ordinal)))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown kind %d", int(k.Kind)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return nil
}

// ServicePrefix is the etcd key prefix under which every record of service
// ns/svc lives: "<prefix><ns>/<svc>/".
func ServicePrefix(prefix, ns, svc string) string {
	return prefix + ns + "/" + svc + "/"
}

// EtcdKey returns the etcd key of k under prefix (which ends in "/"):
//
//	<prefix><ns>/<svc>/service
//	<prefix><ns>/<svc>/primary
//	<prefix><ns>/<svc>/replicas/<ordinal>
//
// It is the one place the key layout is written down in code.
func (k Key) EtcdKey(prefix string) string {
	s := ServicePrefix(prefix, k.Namespace, k.Service) + k.Kind.String()
	if k.Kind == KindReplica {
		s += "/" + strconv.Itoa(k.Ordinal)
	}
	return s
}

// ParseEtcdKey is the inverse of Key.EtcdKey; it rejects any key that
// Key.EtcdKey would not produce.
func ParseEtcdKey(prefix, key string) (Key, error) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return Key{}, fmt.Errorf("%w: %q not under %q", ErrBadKey, key, prefix)
	}
	parts := strings.Split(rest, "/")
	k := Key{}
	switch {
	case len(parts) == 3 && parts[2] == "service":
		k.Kind = KindService
	case len(parts) == 3 && parts[2] == "primary":
		k.Kind = KindPrimary
	case len(parts) == 4 && parts[2] == "replicas":
		n, ok := ParseOrdinal(parts[3])
		if !ok {
			return Key{}, fmt.Errorf("%w: bad ordinal in %q", ErrBadKey, key)
		}
		k.Kind, k.Ordinal = KindReplica, n
	default:
		return Key{}, fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	k.Namespace, k.Service = parts[0], parts[1]
	if err := k.Validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// DNSName returns the canonical (lower-case, fully qualified) DNS name that
// answers for k in zone:
//
//	KindService  <svc>.<ns>.svc.<zone>
//	KindPrimary  primary.<svc>.<ns>.svc.<zone>
//	KindReplica  <svc>-<n>.<svc>.<ns>.svc.<zone>
func (k Key) DNSName(zone string) string {
	base := k.Service + "." + k.Namespace + ".svc." + zone
	switch k.Kind {
	case KindPrimary:
		return "primary." + base
	case KindReplica:
		return replicaLabel(k.Service, k.Ordinal) + "." + base
	}
	return base
}

// KeyForName is the inverse of Key.DNSName: it maps a service, primary or
// replica name in zone (any letter case) to its key. zone must be a
// canonical name as Config.Validate accepts.
func KeyForName(zone, name string) (Key, error) {
	rel, ok := relativeLabels(zone, strings.ToLower(name))
	if !ok || len(rel) < 3 || len(rel) > 4 || rel[len(rel)-1] != "svc" {
		return Key{}, fmt.Errorf("%w: %q is not a service name in %q", ErrBadKey, name, zone)
	}
	k := Key{Namespace: rel[len(rel)-2], Service: rel[len(rel)-3], Kind: KindService}
	if len(rel) == 4 {
		if rel[0] == "primary" {
			k.Kind = KindPrimary
		} else if n, ok := replicaOrdinal(k.Service, rel[0]); ok {
			k.Kind, k.Ordinal = KindReplica, n
		} else {
			return Key{}, fmt.Errorf("%w: %q is neither primary nor a replica of %q", ErrBadKey, name, k.Service)
		}
	}
	if err := k.Validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// relativeLabels splits the lower-case fully qualified name into the labels
// left of zone; ok is false when name is not in zone. The apex gives an
// empty slice.
func relativeLabels(zone, name string) ([]string, bool) {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	if name == zone {
		return []string{}, true
	}
	if zone == "." {
		return strings.Split(strings.TrimSuffix(name, "."), "."), true
	}
	head, ok := strings.CutSuffix(name, "."+zone)
	if !ok || head == "" {
		return nil, false
	}
	return strings.Split(head, "."), true
}

// replicaLabel is the first label of a replica's name: "<svc>-<n>".
func replicaLabel(svc string, n int) string {
	return svc + "-" + strconv.Itoa(n)
}

// replicaOrdinal parses "<svc>-<n>" for the given service.
func replicaOrdinal(svc, label string) (int, bool) {
	rest, ok := strings.CutPrefix(label, svc+"-")
	if !ok {
		return 0, false
	}
	return ParseOrdinal(rest)
}

// ParseOrdinal accepts canonical decimal ordinals only: no sign, no leading
// zero, at most MaxOrdinal. The coordination keys in etcd use it too.
func ParseOrdinal(s string) (int, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > MaxOrdinal {
		return 0, false
	}
	return n, true
}

// IsLabel reports whether s is a DNS-1123 label: 1-63 characters of
// [a-z0-9-], starting and ending with a letter or digit.
func IsLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
