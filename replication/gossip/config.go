package gossip

import (
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
)

// KeySize is the size of a gossip key: AES-256.
const KeySize = 32

// DefaultPort is the gossip port, UDP and TCP (memberlist's usual port).
const DefaultPort = 7946

// Config configures one node of the gossip pool. Durations are
// time.Duration; the failure-detection fields map one to one onto
// memberlist.Config.
type Config struct {
	// Name is the node's name, unique in the pool: a DNS-1123 subdomain
	// (agents use their member cluster's name, hub replicas their pod
	// name). A node restarted under the same name is the same member.
	Name string
	// Role is RoleHub or RoleAgent.
	Role Role
	// Cluster is an agent's member cluster, a DNS-1123 label; required for
	// agents, optional for the hub.
	Cluster string
	// Region is the node's region, a DNS-1123 label; optional.
	Region string
	// Payload is an initial opaque payload carried in the node's metadata
	// (an agent's etcd session id); see Pool.UpdatePayload. Role, Cluster,
	// Region and Payload must encode in MaxMetaSize bytes.
	Payload []byte

	// BindAddr is the IP address the UDP and TCP listeners bind to.
	BindAddr string
	// BindPort is the UDP and TCP port; 0 picks a free port (see Pool.Addr).
	BindPort int
	// AdvertiseAddr is the IP address the other nodes reach this node at;
	// empty advertises BindAddr, or a private address of the host when
	// BindAddr is 0.0.0.0.
	AdvertiseAddr string
	// AdvertisePort is the port advertised; 0 advertises the bound port.
	AdvertisePort int
	// Join lists host:port addresses of nodes already in the pool (the hub's
	// gossip Service for an agent). Pool.Join without arguments joins them,
	// and the pool tries them again whenever it finds itself alone.
	Join []string

	// Keyring holds the AES-256 keys (KeySize bytes each) of the pool,
	// primary first: the primary encrypts, every key decrypts. See
	// LoadKeyring and the key rotation section of the package doc.
	Keyring [][]byte
	// Insecure runs the pool without encryption. Without it, an empty
	// Keyring is refused: gossip carries which clusters are alive and the
	// agents' session ids, and an unauthenticated pool accepts any joiner.
	Insecure bool

	// ProbeInterval is how often this node probes one other member (round
	// robin, so each member is probed by a given node every
	// (members-1)*ProbeInterval).
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct UDP probe waits for an ack before
	// the indirect probes and the TCP fallback start; the 99th percentile
	// of the round trip time between any two nodes. The indirect probes get
	// the rest of the ProbeInterval.
	ProbeTimeout time.Duration
	// IndirectChecks is how many other members probe a member on this
	// node's behalf when the direct probe fails; at least 3. Indirect
	// probes keep a member alive when only the link between the prober and
	// it is cut.
	IndirectChecks int
	// SuspicionMult scales the suspicion timeout: a suspect member is
	// declared dead at the earliest SuspicionMult * max(1,
	// log10(members)) * ProbeInterval after its first suspicion, unless it
	// refutes. memberlist expects SuspicionMult-2 confirmations (suspicions
	// of the same member from other nodes), none in pools too small.
	SuspicionMult int
	// SuspicionMaxTimeoutMult: while the expected confirmations are
	// missing, the suspicion timeout is up to SuspicionMaxTimeoutMult times
	// the minimum, shrinking to it as they come. No effect when memberlist
	// expects no confirmation (SuspicionMult 2 or less).
	SuspicionMaxTimeoutMult int
	// GossipInterval is how often queued messages (suspect, dead, alive)
	// are sent to GossipNodes random members.
	GossipInterval time.Duration
	// GossipNodes is the gossip fan-out per GossipInterval.
	GossipNodes int
	// RetransmitMult: each message is retransmitted RetransmitMult *
	// ceil(log10(members+1)) times.
	RetransmitMult int
	// PushPullInterval is how often this node syncs its full state with a
	// random member over TCP (anti-entropy).
	PushPullInterval time.Duration
	// TCPTimeout bounds a stream connection: dial, push/pull, TCP probes.
	TCPTimeout time.Duration
	// GossipToTheDeadTime is how long this node keeps gossiping to a member
	// it declared dead, giving it a chance to refute.
	GossipToTheDeadTime time.Duration
	// DeadNodeReclaimTime is how long a dead member's name stays bound to
	// its old address; after it, a node of the same name at a new address
	// (a restarted pod) is accepted.
	DeadNodeReclaimTime time.Duration
	// ReconnectInterval is how often this node tries to join a dead member
	// again (to heal a partition longer than GossipToTheDeadTime), and its
	// Join peers when it is alone; 0 disables it.
	ReconnectInterval time.Duration
	// ForgetAfter is how long a dead or left member stays in Members and
	// counts in ClusterState, and is retried by the reconnect loop.
	ForgetAfter time.Duration

	// Logger receives memberlist's log lines at V(1) (its debug lines at
	// V(2)); the zero Logger discards them.
	Logger logr.Logger
	// Registerer receives the pool's metrics; nil registers none.
	Registerer prometheus.Registerer
	// WrapTransport, if set, wraps the UDP/TCP transport New creates
	// (memberlist's NetTransport) before memberlist uses it: a hook for
	// fault injection (see package gossiptest). Nil uses it as is.
	WrapTransport func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
}

// DefaultConfig returns the defaults for a node named name: timings for a
// pool spread over WAN regions (round trips up to ~300 ms) that suspects a
// dead node within 1-2 s and declares it dead a few seconds later. It
// starts from memberlist.DefaultWANConfig (probe every 5 s, suspicion
// 6 * 5 s = 30 s minimum), far too slow for an early failover signal.
// Role, Cluster, Region and Keyring are left to the caller.
func DefaultConfig(name string) Config {
	wan := memberlist.DefaultWANConfig()
	return Config{
		Name:     name,
		BindAddr: "0.0.0.0",
		BindPort: DefaultPort,

		// One probe per second (WAN: 5 s). A prober suspects a member one
		// ProbeInterval after starting a probe whose direct ping, indirect
		// pings and TCP fallback all fail. Each of the n-1 other nodes
		// probes a given member once per n-1 intervals, so the first of
		// them starts probing a crashed member within about a second:
		// suspected 1-2 s after the crash (1.8-2.8 s measured in a pool of
		// four whose probes started 0.2 s before the crash). The cost is
		// one small UDP round trip per node per second.
		ProbeInterval: time.Second,
		// 400 ms (WAN: 3 s): above the 99th percentile of cross-region
		// round trips (~300 ms), and it leaves 600 ms of the ProbeInterval
		// for the indirect probe's two hops through another region.
		ProbeTimeout: 400 * time.Millisecond,
		// 3, memberlist's default: three other members vouch for a member
		// this node cannot reach directly, so a partition of one link
		// (hub <-> one agent) evicts nobody. Any single ack suffices.
		IndirectChecks: wan.IndirectChecks,
		// 3 (WAN: 6): the minimum suspicion timeout is 3 s *
		// max(1, log10(members)) — 3 s up to 10 members, 4.4 s at 30.
		// memberlist then expects SuspicionMult-2 = 1 confirmation (a
		// suspicion of the same member from another node; none in pools of
		// fewer than 3). With it, a crash is declared dead 3 s after the
		// first suspicion, about 5 s after the crash (4.8-5.8 s measured
		// in the pool of four). A live member refutes
		// well within that: it hears the suspicion in a gossip round or
		// two (200-400 ms) and its refutation needs as long again.
		SuspicionMult: 3,
		// 2 (WAN: 6): without the expected confirmation, the timeout is
		// twice the minimum (6 s), shrinking to the minimum when it comes.
		// A node cut off from everyone gets no confirmations, so it
		// declares the others dead later than they declare it (and its
		// health score slows its probing too): Lifeguard's protection
		// against a node whose own network is the problem.
		SuspicionMaxTimeoutMult: 2,
		// 200 ms (WAN: 500 ms): suspect/dead/alive messages reach every
		// member in a few rounds, so a refutation beats the 3 s timeout
		// and a death is known pool-wide well under a second after it is
		// declared.
		GossipInterval: 200 * time.Millisecond,
		// 4, the WAN fan-out: fewer rounds to cover the pool.
		GossipNodes: wan.GossipNodes,
		// 4, memberlist's default: 4 retransmissions up to 9 members, 8 up
		// to 99.
		RetransmitMult: wan.RetransmitMult,
		// 30 s (WAN: 60 s): anti-entropy repairs missed messages twice a
		// minute; a full state of a few dozen members is a few KB.
		PushPullInterval: 30 * time.Second,
		// 10 s (WAN: 30 s): a push/pull across regions takes well under a
		// second; longer means the peer is gone.
		TCPTimeout: 10 * time.Second,
		// 60 s, the WAN value: a member wrongly declared dead hears about it
		// and refutes for a minute; the reconnect loop covers the rest.
		GossipToTheDeadTime: wan.GossipToTheDeadTime,
		// 2 s (memberlist: never): a restarted agent pod comes back with a
		// new IP under the same name; it is accepted 2 s after its old
		// incarnation was declared dead.
		DeadNodeReclaimTime: 2 * time.Second,
		// 10 s: a dead member or the Join peers are retried six times a
		// minute, one at a time, each bounded by TCPTimeout.
		ReconnectInterval: 10 * time.Second,
		// 24 h, as Serf's reconnect timeout: a cluster down for a day is
		// forgotten (ClusterState then reports StateUnknown).
		ForgetAfter: 24 * time.Hour,
	}
}
