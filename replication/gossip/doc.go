// Package gossip is the federation's gossip pool: the hub replicas and
// one agent per member cluster join one hashicorp/memberlist pool, which
// gives every node an early, partition-aware picture of which clusters
// are alive.
//
// # Use
//
// Each node builds a Config from DefaultConfig, sets its Role, Cluster
// (agents), Region and the keyring loaded from the mounted Secret
// (LoadKeyring), then:
//
//	pool, err := gossip.New(cfg) // listens, joins nobody yet
//	...
//	_, err = pool.Join(ctx)     // Config.Join: the hub's gossip Service
//	sub := pool.Subscribe(256)  // transitions from now on
//	members := pool.Members()   // then the current picture
//	...
//	pool.Leave(ctx)             // a planned stop: others record Left
//	pool.Shutdown()
//
// An agent puts its etcd session id in its metadata (Config.Payload or
// UpdatePayload), so the hub can match a gossip member with the agent's
// lease. The hub reads ClusterState(cluster) and the transitions; agents
// may read them too (to see the hub). Consumers hold the Pool behind an
// interface of their own with the one or two methods they use.
//
// # What gossip decides, and what it does not
//
// Gossip decides nothing about primaries. Every transition is a hint
// from one node's view: on a Suspect or Dead of a cluster, the hub starts
// watching that cluster's etcd leases closely and lets the failover
// state machine act only on a lease that expired. A cluster can be dead
// in gossip and hold its lease (gossip cut, etcd reachable: nothing
// happens), or alive in gossip after losing etcd (it fences itself by
// its lease, whatever gossip says). Fencing, epochs and promotions live
// in replication/coord and replication/failover.
//
// # Failure detection
//
// memberlist probes one member per ProbeInterval (1 s), round robin. A
// probe is a direct UDP ping (ProbeTimeout 400 ms), then IndirectChecks
// (3) other members ping on the prober's behalf while it also tries TCP;
// any ack keeps the member alive. Only when all fail does the prober
// suspect the member and gossip it; the member is declared dead when the
// suspicion timeout passes without a refutation: SuspicionMult 3 *
// max(1, log10(members)) * ProbeInterval (3 s up to 10 members) once
// another node confirmed the suspicion, twice that without confirmation.
// A crashed node is suspected 1-2 s after the crash by its first prober
// and declared dead 3 s after that: in the tests' pool of four on
// loopback, 1.8-2.8 s and 4.8-5.8 s (TestCrashDetected logs them).
//
// # Partitions, and what memberlist tells
//
// Indirect probes make the pool partition-aware: if only the link between
// the hub and an agent is cut, the other agents vouch for it and nobody
// declares it dead. The hub still sees that it cannot reach the agent
// itself: Member.DirectProbeFailed with State Alive.
//
// memberlist's EventDelegate reports only joins, metadata updates and
// "leaves" (dead and left alike); it has no hook for suspicions,
// refutations, nor for who declared a death. The pool reads the missing
// steps from memberlist's own log lines (its failed probes and its
// suspicion timer's "peer confirmations"), which gives per death:
// DeclaredHere (this node's timer expired) or not (a death gossiped by
// another node reached this node first), the confirmations counted, and
// SuspectedHere (this node's own probe failed). Transition.Corroborated
// folds them: a death not corroborated rests on this node's view alone —
// typical of the node that is itself cut off, which sees everyone else
// die. HealthScore (Lifeguard's awareness) rises on such a node as well.
// Limits: a suspicion this node only received by gossip is not visible
// (the member stays Alive here until this node's own probe fails or the
// death arrives; since a node probes a given member once per members-1
// intervals, in a large pool the hub mostly learns a death by gossip
// without a Suspect first), and a refutation is seen only as a direct ack or as the
// suspicion window passing without a death, so Suspect may outlast
// memberlist's own state by up to that window. A departure is told from a
// crash by the Leaving flag that Leave gossips in the node's metadata
// first. Hence the rule above: treat gossip death as a hint that starts
// watching the etcd lease.
//
// # Signals
//
// Members is a snapshot of this node's view. Subscribe delivers each
// transition (joined, suspected, refuted, died, left, rejoined, updated)
// with its time, without ever blocking memberlist: each subscription has
// a buffer and drops its oldest transition when full (counted in
// Dropped and in a metric); Members stays exact. ClusterState folds a
// cluster's agents: Alive if any is alive, else Suspect, else Dead.
//
// # Encryption and key rotation
//
// Gossip is sealed with AES-256-GCM by memberlist's keyring: the primary
// key encrypts, every installed key decrypts, and a node without a
// matching key can neither join nor be listed. New refuses an empty
// keyring unless Config.Insecure is set. The keyring file has one base64
// key per line, primary first (ParseKeyring). Keyring changes are local
// to a node, so a rotation goes in three stages, each finished on every
// node before the next begins:
//
//  1. AddKey(new) on every node (keyring file: old, new). Everyone
//     decrypts both keys; everyone still encrypts with old.
//  2. UseKey(new) on every node (file: new, old). Everyone encrypts with
//     new, which every node can already read.
//  3. RemoveKey(old) on every node (file: new).
//
// ApplyKeyring(keys) performs the step that a new file content calls for
// on one node; the hub and the agents reload the file (LoadKeyring) when
// the mounted Secret changes. Memberlist cannot list a remote node's
// keys, so wait out the Secret's propagation to every cluster (the
// kubelet's sync period, about a minute) between stages. Skipping ahead (switching a primary before every node has
// the key) makes the nodes that lack it unable to read that node, which
// they then declare dead.
//
// # Metrics and logs
//
// New creates the collectors and registers them on Config.Registerer
// (the controller-runtime registry or the caller's own);
// Shutdown unregisters them: fedstate_gossip_members{state},
// fedstate_gossip_transitions_total{kind},
// fedstate_gossip_transitions_dropped_total,
// fedstate_gossip_probe_rtt_seconds (direct probes) and
// fedstate_gossip_health_score. memberlist's log lines go to
// Config.Logger at V(1), its debug lines at V(2).
//
// Package gossiptest provides a transport wrapper that cuts links between
// nodes, for partition tests here and in the robustness suite.
package gossip
