package coord

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/fedstate/fedstate/dnsserver"
)

// DefaultPrefix is the etcd prefix of the coordination keys.
const DefaultPrefix = "/fedstate/coord/"

// MaxReplica is the largest replica ordinal a key may carry; it matches the
// int32 ordinals of a StatefulSet.
const MaxReplica = dnsserver.MaxOrdinal

// Kind says what a coordination key holds.
type Kind int

// The kinds of key; see the layout table in the package documentation.
const (
	// KindEpoch holds a service's fencing epoch, a decimal integer.
	KindEpoch Kind = iota + 1
	// KindPrimary holds the replica promoted in the current epoch (Primary).
	KindPrimary
	// KindFailoverState holds the failover state machine's opaque state.
	KindFailoverState
	// KindLease is the primary lease: present while an agent keeps the
	// primary's etcd lease alive (Holder).
	KindLease
	// KindReport holds one replica's latest report (Report), bound to the
	// reporting agent's session.
	KindReport
	// KindAgent says an agent is alive (AgentInfo), bound to its session.
	KindAgent
	// KindCommand holds the latest command of the hub leader to one
	// replica's agent (Command).
	KindCommand
)

// String returns the key segment of the kind.
func (k Kind) String() string {
	switch k {
	case KindEpoch:
		return "epoch"
	case KindPrimary:
		return "primary"
	case KindFailoverState:
		return "failover"
	case KindLease:
		return "lease"
	case KindReport:
		return "reports"
	case KindAgent:
		return "agents"
	case KindCommand:
		return "commands"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ErrBadKey is returned when a key does not follow the layout.
var ErrBadKey = errors.New("coord: key outside the layout")

// Service names a FederatedStatefulSet.
type Service struct {
	// Namespace of the FederatedStatefulSet, a DNS-1123 label.
	Namespace string
	// Name of the FederatedStatefulSet, a DNS-1123 label.
	Name string
}

// String returns "namespace/name".
func (s Service) String() string { return s.Namespace + "/" + s.Name }

// Validate reports whether both parts are DNS-1123 labels.
func (s Service) Validate() error {
	var errs []error
	if !dnsserver.IsLabel(s.Namespace) {
		errs = append(errs, fmt.Errorf("namespace %q is not a DNS-1123 label", s.Namespace))
	}
	if !dnsserver.IsLabel(s.Name) {
		errs = append(errs, fmt.Errorf("service %q is not a DNS-1123 label", s.Name))
	}
	return errors.Join(errs...)
}

// Key identifies one coordination key. Service kinds carry Namespace and
// Service (and Replica for KindReport and KindCommand); KindAgent carries
// Agent only.
type Key struct {
	// Namespace of the service; empty for KindAgent.
	Namespace string
	// Service is the service's name; empty for KindAgent.
	Service string
	// Kind of key.
	Kind Kind
	// Replica is the ordinal of the reporting or commanded replica; zero
	// unless Kind is KindReport or KindCommand.
	Replica int
	// Agent is the agent's name, a DNS-1123 label; empty unless Kind is
	// KindAgent.
	Agent string
}

// ServiceKey returns the key of the given kind of svc.
func ServiceKey(svc Service, kind Kind) Key {
	return Key{Namespace: svc.Namespace, Service: svc.Name, Kind: kind}
}

// ReportKey returns the key of replica's report in svc.
func ReportKey(svc Service, replica int) Key {
	return Key{Namespace: svc.Namespace, Service: svc.Name, Kind: KindReport, Replica: replica}
}

// CommandKey returns the key of the command to replica's agent in svc.
func CommandKey(svc Service, replica int) Key {
	return Key{Namespace: svc.Namespace, Service: svc.Name, Kind: KindCommand, Replica: replica}
}

// perReplica says whether keys of the kind name a replica.
func (k Kind) perReplica() bool { return k == KindReport || k == KindCommand }

// AgentKey returns the liveness key of agent.
func AgentKey(agent string) Key { return Key{Kind: KindAgent, Agent: agent} }

// Validate reports every reason the key cannot be stored.
func (k Key) Validate() error {
	var errs []error
	switch k.Kind {
	case KindEpoch, KindPrimary, KindFailoverState, KindLease, KindReport, KindCommand:
		errs = append(errs, Service{Namespace: k.Namespace, Name: k.Service}.Validate())
		if k.Agent != "" {
			errs = append(errs, fmt.Errorf("%s key with agent %q", k.Kind, k.Agent))
		}
		if k.Kind.perReplica() && (k.Replica < 0 || k.Replica > MaxReplica) {
			errs = append(errs, fmt.Errorf("replica %d out of [0, %d]", k.Replica, MaxReplica))
		}
		if !k.Kind.perReplica() && k.Replica != 0 {
			errs = append(errs, fmt.Errorf("%s key with replica %d", k.Kind, k.Replica))
		}
	case KindAgent:
		if !dnsserver.IsLabel(k.Agent) {
			errs = append(errs, fmt.Errorf("agent %q is not a DNS-1123 label", k.Agent))
		}
		if k.Namespace != "" || k.Service != "" || k.Replica != 0 {
			errs = append(errs, fmt.Errorf("agent key with service fields %q/%q replica %d", k.Namespace, k.Service, k.Replica))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown kind %d", int(k.Kind)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return nil
}

// EtcdKey returns the etcd key of k under prefix (which ends in "/"):
//
//	<prefix>services/<ns>/<svc>/epoch
//	<prefix>services/<ns>/<svc>/primary
//	<prefix>services/<ns>/<svc>/failover
//	<prefix>services/<ns>/<svc>/lease
//	<prefix>services/<ns>/<svc>/reports/<replica>
//	<prefix>services/<ns>/<svc>/commands/<replica>
//	<prefix>agents/<agent>
//
// It is the one place the key layout is written down in code; ParseKey is
// its inverse. The result is meaningful only for a valid k.
func (k Key) EtcdKey(prefix string) string {
	switch k.Kind {
	case KindAgent:
		return AgentsPrefix(prefix) + k.Agent
	case KindReport, KindCommand:
		return ServicePrefix(prefix, Service{Namespace: k.Namespace, Name: k.Service}) + k.Kind.String() + "/" + strconv.Itoa(k.Replica)
	}
	return ServicePrefix(prefix, Service{Namespace: k.Namespace, Name: k.Service}) + k.Kind.String()
}

// ServicePrefix is the prefix of every key of svc: "<prefix>services/<ns>/<svc>/".
// One range read of it gives a consistent view of the service.
func ServicePrefix(prefix string, svc Service) string {
	return prefix + "services/" + svc.Namespace + "/" + svc.Name + "/"
}

// AgentsPrefix is the prefix of the agents' liveness keys: "<prefix>agents/".
func AgentsPrefix(prefix string) string { return prefix + "agents/" }

// ElectionPrefix is the prefix under which the hub replicas campaign for
// leadership: concurrency.Election keys "<prefix>leader/<lease ID in hex>".
// These keys are outside Key's layout.
func ElectionPrefix(prefix string) string { return prefix + "leader/" }

// ParseKey is the inverse of Key.EtcdKey: it returns the key that EtcdKey
// maps to key under prefix, and ErrBadKey for any key EtcdKey would not
// produce (including the election keys).
func ParseKey(prefix, key string) (Key, error) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return Key{}, fmt.Errorf("%w: %q not under %q", ErrBadKey, key, prefix)
	}
	parts := strings.Split(rest, "/")
	var k Key
	switch {
	case len(parts) == 2 && parts[0] == "agents":
		k = Key{Kind: KindAgent, Agent: parts[1]}
	case len(parts) == 4 && parts[0] == "services":
		k = Key{Namespace: parts[1], Service: parts[2], Kind: serviceKind(parts[3])}
	case len(parts) == 5 && parts[0] == "services" && (parts[3] == KindReport.String() || parts[3] == KindCommand.String()):
		n, ok := dnsserver.ParseOrdinal(parts[4])
		if !ok {
			return Key{}, fmt.Errorf("%w: bad replica in %q", ErrBadKey, key)
		}
		kind := KindReport
		if parts[3] == KindCommand.String() {
			kind = KindCommand
		}
		k = Key{Namespace: parts[1], Service: parts[2], Kind: kind, Replica: n}
	default:
		return Key{}, fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	if err := k.Validate(); err != nil {
		return Key{}, fmt.Errorf("%q: %w", key, err)
	}
	return k, nil
}

// serviceKind maps the last segment of a four-segment service key to its
// kind; zero (invalid) for anything else.
func serviceKind(s string) Kind {
	for _, k := range []Kind{KindEpoch, KindPrimary, KindFailoverState, KindLease} {
		if s == k.String() {
			return k
		}
	}
	return 0
}
