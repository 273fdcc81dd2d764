package hub

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/federation/members"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/gossip"
)

// ReplicaID names this hub replica: its host name (the pod's), lower-cased,
// with a random suffix that keeps two hubs on one host apart; a host name
// that cannot make a DNS-1123 subdomain gives way to "fedstate-hub". It is
// the coordinator's candidate name in the federation etcd and the
// replica's name in the gossip pool.
func ReplicaID() string {
	host, _ := os.Hostname()
	id := strings.ToLower(host) + "-" + rand.String(5)
	if host == "" || len(validation.IsDNS1123Subdomain(id)) > 0 {
		id = "fedstate-hub-" + rand.String(5)
	}
	return id
}

// GossipConfig converts the hub's gossip section into the configuration
// of the gossip node named id, loading the keyring file; gossip.New
// validates the rest.
func GossipConfig(g config.Gossip, id string) (gossip.Config, error) {
	c := gossip.DefaultConfig(id)
	c.Role, c.Region, c.Join, c.Insecure = gossip.RoleHub, g.Region, append([]string(nil), g.Join...), g.Insecure
	bind, err := netip.ParseAddrPort(g.BindAddress)
	if err != nil {
		return c, fmt.Errorf("gossip.bindAddress %q: %w", g.BindAddress, err)
	}
	c.BindAddr, c.BindPort = bind.Addr().String(), int(bind.Port())
	if g.AdvertiseAddress != "" {
		adv, err := netip.ParseAddrPort(g.AdvertiseAddress)
		if err != nil {
			return c, fmt.Errorf("gossip.advertiseAddress %q: %w", g.AdvertiseAddress, err)
		}
		c.AdvertiseAddr, c.AdvertisePort = adv.Addr().String(), int(adv.Port())
	}
	if g.KeyringFile != "" {
		if c.Keyring, err = gossip.LoadKeyring(g.KeyringFile); err != nil {
			return c, err
		}
	}
	return c, nil
}

// joinTimeout bounds the first join of the configured peers; the pool
// keeps trying them by itself while it is alone.
const joinTimeout = 10 * time.Second

// StartGossip starts the hub replica's gossip node named id, with its
// metrics on reg, and joins the configured peers (the other hub
// replicas). A join that fails is logged, not returned: the replica is
// then alone until an agent or a peer reaches it, and retries its peers
// every reconnect interval. The caller leaves the pool and shuts the node
// down when the hub stops (LeaveGossip).
func StartGossip(ctx context.Context, g config.Gossip, id string, log logr.Logger, reg prometheus.Registerer) (*gossip.Pool, error) {
	c, err := GossipConfig(g, id)
	if err != nil {
		return nil, err
	}
	c.Logger, c.Registerer = log, reg
	pool, err := gossip.New(c)
	if err != nil {
		return nil, err
	}
	if len(c.Join) > 0 {
		jctx, cancel := context.WithTimeout(ctx, joinTimeout)
		defer cancel()
		if n, err := pool.Join(jctx); err != nil {
			log.Error(err, "Cannot join the gossip pool yet; retrying in the background", "peers", c.Join)
		} else {
			log.Info("Joined the gossip pool", "peers", c.Join, "answered", n)
		}
	}
	return pool, nil
}

// leaveTimeout bounds the leave message on shutdown: a few gossip rounds.
const leaveTimeout = 3 * time.Second

// LeaveGossip tells the pool this replica leaves, so that the others
// record it Left rather than Dead, then shuts the node down.
func LeaveGossip(pool *gossip.Pool) error {
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	err := pool.Leave(ctx)
	if serr := pool.Shutdown(); err == nil {
		err = serr
	}
	return err
}

// SetupAgents adds to mgr the monitor that writes every MemberCluster's
// AgentAlive condition from the agents' sessions in store and, when pool
// is not nil, the hub's view of the gossip pool.
func SetupAgents(mgr ctrl.Manager, store *coord.Store, pool *gossip.Pool) (*members.AgentMonitor, error) {
	m := &members.AgentMonitor{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Sessions: store,
		Recorder: mgr.GetEventRecorder(EventSource)}
	if pool != nil {
		m.Gossip = pool
	}
	if err := m.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return m, nil
}
