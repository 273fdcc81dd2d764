package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/federation/coordinator"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
	"github.com/fedstate/fedstate/federation/statefulset"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/gossip"
)

// hubOptions are the flags of fedstate hub.
type hubOptions struct {
	file       string
	kubeconfig string
	cfg        config.Hub // flag values; only flags set on the command line override the file
	verbosity  int
	// insecureLocal allows the embedded etcd and plaintext to the federation etcd.
	insecureLocal bool
}

func newHubCommand() *cobra.Command {
	o := &hubOptions{cfg: config.DefaultHub()}
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "Run the hub: place FederatedStatefulSets on member clusters and report where every replica is",
		Long: `fedstate hub runs the hub's controllers against the hub cluster's API server:

  - the member registry connects to every MemberCluster through the kubeconfig
    in its Secret, probes its /readyz, and reports Ready and Reachable with
    its capacity;
  - the FederatedStatefulSet controller asks placement where every ordinal
    runs, applies one slice per member (a StatefulSet with
    spec.ordinals.start, its headless Service and a PodDisruptionBudget
    share) with server-side apply, reverts edits made to slices in members,
    moves ordinals between members one at a time so that no replica name
    ever exists in two clusters, and writes the ordinal map, per-replica pod
    IPs and readiness, and the conditions Placed, Available, Progressing and
    Degraded into the service's status;
  - the failover coordinator (failover.enabled, on by default) campaigns for
    the leadership in the federation etcd and, while it holds it, gives every
    service in PrimaryReplica mode a primary (epoch 1 once its replicas are
    placed), promotes the best replica within the RPO budget when the
    primary's lease expires, carries out switchover and failover requests
    (annotations fedstate.io/switchover-to and fedstate.io/failover, which
    fedctl sets), tells the agents what to do through command records, and
    writes status.primary, roles, lags, the FailingOver condition and the
    failover history; it publishes every service's DNS records (the primary
    record only in the promotion transaction). Without failover.etcd.endpoints
    it runs an embedded single-node etcd (docs/failover.md);
  - with failover on, every MemberCluster gets the AgentAlive condition: True
    while the member's agent holds its session in the federation etcd. With
    gossip on (gossip.enabled, --gossip), the hub also joins the federation's
    gossip pool, which the agents join (their --gossip-join names the hub's
    --gossip-listen address): AgentAlive then tells early when gossip suspects
    an agent or declares it dead, and tells a death corroborated by other
    members from one seen only by the hub (HubCannotProbe: the hub is cut
    off, not the agent); the coordinator records PrimaryClusterSuspected on a
    service whose primary's cluster gossip declares dead. Gossip is a hint:
    nothing is promoted before the primary's lease expires;
  - with failover on, the FailoverDrill controller runs DR drills
    (switchover, simulated region outage, failback) under measured client
    load and writes each run's report under drills.reportDir
    (--drill-report-dir; docs/drills.md).

An unreachable member never causes deletions or moves: the hub waits for it
and says so in the Degraded condition. Deleting a service removes its slices
from every reachable member; an unreachable member delays that for at most
services.deletionTimeout, after which the hub records in an event what it
left there.

The federation etcd must be TLS with a client certificate (--etcd-endpoints
https://..., --etcd-ca, --etcd-cert, --etcd-key). The embedded etcd serves
plaintext on loopback, so the hub runs it, or any plaintext etcd, only with
--insecure-local: a federation on one machine (docs/security.md).

Configuration comes from --config (YAML; every field and default is in
docs/hub.md) and the flags below, which override the file. Metrics
(fedstate_reconcile_*, fedstate_cluster_replicas, fedstate_members_*,
fedstate_failover_*, fedstate_gossip_*) are served at /metrics; health at
/healthz and /readyz. With leader election on (the default), several hubs
may run; only the leader writes. SIGINT or SIGTERM stops the hub; it leaves
the gossip pool first.

Gossip is sealed with the keyring in --gossip-keyring (base64 AES-256 keys,
one per line, primary first: the gossip Secret the agents mount too); the hub
refuses to start gossip without one unless --gossip-insecure is set together
with --insecure-local, for a local test federation. Setting any --gossip-*
flag turns gossip on.`,
		Example: `  # Against the hub cluster of the current kubeconfig context, with the
  # embedded etcd (plaintext on loopback: one machine only):
  fedstate hub --insecure-local

  # A configuration file, a kubeconfig and one hub only:
  fedstate hub --config hub.yaml --kubeconfig hub.kubeconfig --leader-elect=false

  # A federation etcd over TLS instead of the embedded one:
  fedstate hub --etcd-endpoints https://etcd-0:2379,https://etcd-1:2379 \
      --etcd-ca ca.pem --etcd-cert hub.pem --etcd-key hub-key.pem

  # Join the gossip pool on port 7946, encrypted, beside the other hub replicas:
  fedstate hub --gossip-keyring /etc/fedstate/gossip/keyring \
      --gossip-advertise "$POD_IP:7946" --gossip-join fedstate-hub-gossip.fedstate-system:7946`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(cmd.Flags())
			if err != nil {
				return err
			}
			if e := cfg.Failover.Etcd; cfg.Failover.Enabled {
				if err := checkEtcdTransport(e.Endpoints, e.CertFile, o.insecureLocal); err != nil {
					return err
				}
			}
			if cfg.Gossip.Enabled {
				if err := checkGossipTransport(cfg.Gossip.Insecure, o.insecureLocal); err != nil {
					return err
				}
			}
			rc, err := restConfig(o.kubeconfig)
			if err != nil {
				return err
			}
			return runHub(cmd.Context(), cfg, rc, cmd.ErrOrStderr(), o.verbosity)
		},
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&o.file, "config", "", "hub configuration file (YAML); flags override it")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the hub cluster (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&c.MetricsAddress, "metrics-bind-address", c.MetricsAddress, "IP:port of /metrics; empty disables it")
	f.StringVar(&c.HealthAddress, "health-probe-bind-address", c.HealthAddress, "IP:port of /healthz and /readyz; empty disables them")
	f.BoolVar(&c.LeaderElection.Enabled, "leader-elect", c.LeaderElection.Enabled, "elect a leader among hub replicas through a Lease; only the leader writes")
	f.StringVar(&c.LeaderElection.Namespace, "leader-election-namespace", c.LeaderElection.Namespace, "namespace of the leader-election Lease in the hub cluster")
	f.IntVar(&c.Services.Workers, "workers", c.Services.Workers, "services reconciled at once")
	f.DurationVar(&c.Services.DeletionTimeout, "deletion-timeout", c.Services.DeletionTimeout, "how long deleting a service waits for an unreachable member before leaving its slice there")
	f.DurationVar(&c.Members.ProbeInterval, "probe-interval", c.Members.ProbeInterval, "how often each member's /readyz is probed")
	f.IntVar(&c.Members.FailureThreshold, "failure-threshold", c.Members.FailureThreshold, "consecutive failed probes before a member is unreachable")
	fo := &c.Failover
	f.BoolVar(&fo.Enabled, "failover", fo.Enabled, "run the failover coordinator and DNS publishing")
	f.StringSliceVar(&fo.Etcd.Endpoints, "etcd-endpoints", fo.Etcd.Endpoints, "federation etcd client URLs; none runs an embedded etcd (see --etcd-data-dir)")
	f.StringVar(&fo.Etcd.CAFile, "etcd-ca", fo.Etcd.CAFile, "CA bundle that signed the federation etcd's serving certificate")
	f.StringVar(&fo.Etcd.CertFile, "etcd-cert", fo.Etcd.CertFile, "client certificate for the federation etcd")
	f.StringVar(&fo.Etcd.KeyFile, "etcd-key", fo.Etcd.KeyFile, "client key for the federation etcd")
	f.StringVar(&fo.Etcd.EmbedDataDir, "etcd-data-dir", fo.Etcd.EmbedDataDir, "data directory of the embedded etcd (without --etcd-endpoints)")
	f.StringVar(&fo.DNSPrefix, "dns-prefix", fo.DNSPrefix, "etcd prefix of the DNS records (what fedstate dns --prefix reads)")
	f.StringVar(&c.Drills.ReportDir, "drill-report-dir", c.Drills.ReportDir, "directory FailoverDrill reports are written under")
	g := &c.Gossip
	f.BoolVar(&g.Enabled, "gossip", g.Enabled, "join the federation's gossip pool (any other --gossip-* flag turns it on too)")
	f.StringVar(&g.BindAddress, "gossip-listen", g.BindAddress, "IP:port of the gossip listeners, UDP and TCP; the agents' --gossip-join names it")
	f.StringVar(&g.AdvertiseAddress, "gossip-advertise", g.AdvertiseAddress, "IP:port the other gossip nodes reach this replica at (default: the listen address, or a private address of the host)")
	f.StringSliceVar(&g.Join, "gossip-join", g.Join, "host:port of gossip nodes to join at start: the other hub replicas")
	f.StringVar(&g.KeyringFile, "gossip-keyring", g.KeyringFile, "keyring file of the gossip pool: base64 AES-256 keys, one per line, primary first")
	f.BoolVar(&g.Insecure, "gossip-insecure", g.Insecure, "gossip without encryption: any host that reaches the port may join (local test federations only)")
	f.BoolVar(&o.insecureLocal, "insecure-local", false, insecureLocalUsage+"; needed for the embedded etcd")
	f.IntVarP(&o.verbosity, "v", "v", 0, "log verbosity: 0 for changes of state, 1 and more for detail")
	return cmd
}

// config loads the file, applies the flags set on the command line and
// validates the result.
func (o *hubOptions) config(flags *pflag.FlagSet) (config.Hub, error) {
	cfg := config.DefaultHub()
	if o.file != "" {
		var err error
		if cfg, err = config.LoadHub(o.file); err != nil {
			return cfg, err
		}
	}
	overrides := map[string]func(){
		"metrics-bind-address":      func() { cfg.MetricsAddress = o.cfg.MetricsAddress },
		"health-probe-bind-address": func() { cfg.HealthAddress = o.cfg.HealthAddress },
		"leader-elect":              func() { cfg.LeaderElection.Enabled = o.cfg.LeaderElection.Enabled },
		"leader-election-namespace": func() { cfg.LeaderElection.Namespace = o.cfg.LeaderElection.Namespace },
		"workers":                   func() { cfg.Services.Workers = o.cfg.Services.Workers },
		"deletion-timeout":          func() { cfg.Services.DeletionTimeout = o.cfg.Services.DeletionTimeout },
		"probe-interval":            func() { cfg.Members.ProbeInterval = o.cfg.Members.ProbeInterval },
		"failure-threshold":         func() { cfg.Members.FailureThreshold = o.cfg.Members.FailureThreshold },
		"failover":                  func() { cfg.Failover.Enabled = o.cfg.Failover.Enabled },
		"etcd-endpoints":            func() { cfg.Failover.Etcd.Endpoints = o.cfg.Failover.Etcd.Endpoints },
		"etcd-ca":                   func() { cfg.Failover.Etcd.CAFile = o.cfg.Failover.Etcd.CAFile },
		"etcd-cert":                 func() { cfg.Failover.Etcd.CertFile = o.cfg.Failover.Etcd.CertFile },
		"etcd-key":                  func() { cfg.Failover.Etcd.KeyFile = o.cfg.Failover.Etcd.KeyFile },
		"etcd-data-dir":             func() { cfg.Failover.Etcd.EmbedDataDir = o.cfg.Failover.Etcd.EmbedDataDir },
		"dns-prefix":                func() { cfg.Failover.DNSPrefix = o.cfg.Failover.DNSPrefix },
		"drill-report-dir":          func() { cfg.Drills.ReportDir = o.cfg.Drills.ReportDir },
		"gossip-listen":             func() { cfg.Gossip.BindAddress = o.cfg.Gossip.BindAddress },
		"gossip-advertise":          func() { cfg.Gossip.AdvertiseAddress = o.cfg.Gossip.AdvertiseAddress },
		"gossip-join":               func() { cfg.Gossip.Join = o.cfg.Gossip.Join },
		"gossip-keyring":            func() { cfg.Gossip.KeyringFile = o.cfg.Gossip.KeyringFile },
		"gossip-insecure":           func() { cfg.Gossip.Insecure = o.cfg.Gossip.Insecure },
	}
	for name, apply := range overrides {
		if flags.Changed(name) {
			apply()
			if strings.HasPrefix(name, "gossip-") {
				cfg.Gossip.Enabled = true
			}
		}
	}
	if flags.Changed("gossip") { // last: --gossip=false wins over the others
		cfg.Gossip.Enabled = o.cfg.Gossip.Enabled
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("hub configuration:\n%w", err)
	}
	return cfg, nil
}

// restConfig loads the hub cluster's client configuration the way kubectl
// does.
func restConfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load the hub kubeconfig: %w", err)
	}
	return rc, nil
}

// runHub runs the hub's manager until ctx ends.
func runHub(ctx context.Context, cfg config.Hub, rc *rest.Config, logOut io.Writer, verbosity int) error {
	log := logr.FromSlogHandler(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.Level(-verbosity)}))
	ctrl.SetLogger(log)
	ctx = logr.NewContext(ctx, log)
	scheme, err := hub.Scheme()
	if err != nil {
		return err
	}
	le := cfg.LeaderElection
	rc = rest.CopyConfig(rc)
	rc.QPS, rc.Burst = cfg.QPS, cfg.Burst
	mgr, err := ctrl.NewManager(rc, ctrl.Options{
		Scheme: scheme,
		Logger: log,
		// Member kubeconfig Secrets are read from fedstate-system only
		// (config/rbac/hub.yaml grants no more).
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Namespaces: map[string]cache.Config{membership.Namespace: {}}},
		}},
		Metrics:                 metricsserver.Options{BindAddress: orZero(cfg.MetricsAddress)},
		HealthProbeBindAddress:  orZero(cfg.HealthAddress),
		LeaderElection:          le.Enabled,
		LeaderElectionID:        le.Name,
		LeaderElectionNamespace: le.Namespace,
		LeaseDuration:           &le.LeaseDuration,
		RenewDeadline:           &le.RenewDeadline,
		RetryPeriod:             &le.RetryPeriod,
		// The hub stops writing the moment it loses the lease.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("create the hub manager: %w", err)
	}
	id := hub.ReplicaID()
	var pool *gossip.Pool
	if cfg.Gossip.Enabled {
		if pool, err = hub.StartGossip(ctx, cfg.Gossip, id, log, ctrlmetrics.Registry); err != nil {
			return fmt.Errorf("start gossip: %w", err)
		}
		defer func() {
			if err := hub.LeaveGossip(pool); err != nil {
				log.Error(err, "Leaving the gossip pool")
			}
		}()
		log.Info("In the gossip pool", "name", id, "address", pool.Addr(), "encrypted", !cfg.Gossip.Insecure)
		if !cfg.Failover.Enabled {
			log.Info("Gossip without failover: no AgentAlive conditions, which need the federation etcd")
		}
	}
	var store *coord.Store
	var gate statefulset.DataGate
	if cfg.Failover.Enabled {
		ccfg := hub.CoordConfig(cfg.Failover.Etcd)
		ccfg.Logger = zap.NewNop()
		if store, err = coord.Connect(ctx, ccfg); err != nil {
			return fmt.Errorf("connect to the federation etcd: %w", err)
		}
		defer store.Close()
		gate = coordinator.DataGate{Store: store}
		log.Info("Coordinating failovers", "id", id, "etcd", strings.Join(store.Endpoints(), ","), "embedded", len(ccfg.Endpoints) == 0)
	}
	if _, err := hub.Setup(mgr, cfg, gate); err != nil {
		return err
	}
	if store != nil {
		agents, err := hub.SetupAgents(mgr, store, pool)
		if err != nil {
			return err
		}
		if _, err := hub.SetupFailover(mgr, cfg, store, id, agents); err != nil {
			return err
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	log.Info("Starting the hub", "host", rc.Host, "leaderElection", le.Enabled, "metrics", cfg.MetricsAddress, "health", cfg.HealthAddress)
	return mgr.Start(ctx)
}

// orZero maps an empty address to "0", controller-runtime's "disabled".
func orZero(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}
