package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"

	"github.com/fedstate/fedstate/replication/agent"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/gossip"
	"github.com/fedstate/fedstate/replication/postgres"
)

// agentOptions are the flags of fedstate agent.
type agentOptions struct {
	cfg           agent.Config
	etcd          coord.Config
	pg            postgres.Config
	kubeconfig    string
	replNetworks  []string
	clientNets    []string
	replPassFile  string
	noWatchdog    bool
	metricsListen string
	verbosity     int
	gossipListen  string
	gossipJoin    []string
	gossipKeyring string
	gossipNoCrypt bool
	insecureLocal bool
	region        string
}

func newAgentCommand() *cobra.Command {
	o := &agentOptions{cfg: agent.DefaultConfig(""), etcd: coord.DefaultConfig(), pg: postgres.DefaultConfig()}
	o.etcd.Endpoints = []string{"http://127.0.0.1:2379"}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the member agent of one member cluster: primaries' leases, fencing, replication",
		Long: `fedstate agent runs beside one member cluster. It follows the commands the
hub's failover coordinator writes to the federation etcd for the replicas
placed in its cluster (--cluster, as joined to the hub) and carries them out
with the replication driver: creating the first primary, seeding new replicas
with a base backup, promoting, demoting, following a new primary (rewinding
a diverged old primary, or copying it afresh) and fencing.

For each replica it finds the pod in the member cluster (--kubeconfig), runs
the PostgreSQL 15 server on the pod's IP and --port, with its data in the
pod's persistent volume (<hostPath>/pgdata), or under --volumes-dir when the
pod has none, and reports the replica's role and WAL position to etcd every
--report-interval.

Safety: a primary is writable only while the agent holds its lease in etcd
and renewed it less than half the lease TTL ago; past that the agent fences it
(read-only, clients cut) before the hub can promote another replica. A fence
watchdog process started beside each primary stops it hard if the agent itself
is killed, paused or hung (--no-watchdog turns it off). A primary whose
server cannot start or open for writes for --primary-give-up (a corrupt or
full volume) is stopped and its lease given up: the hub then fails over as
for a lost region. Stopping the agent
(SIGINT, SIGTERM) leaves servers and leases as they are, for a restart within
the lease TTL to take over.

Gossip: with --gossip-join the agent joins the federation's gossip pool
(encrypted with the keyring in --gossip-keyring), an early failure signal for
the hub. Metrics are served on --metrics-listen at /metrics.

The federation etcd must be TLS with a client certificate, and gossip
encrypted; plaintext etcd and --gossip-insecure need --insecure-local, for a
federation on one machine (docs/security.md).`,
		Example: `  fedstate agent --cluster eu-1 --kubeconfig eu-1.kubeconfig --insecure-local \
      --etcd-endpoints http://127.0.0.1:2379 --volumes-dir /var/lib/fedstate/volumes
  fedstate agent --cluster us-1 --region us --etcd-endpoints https://etcd-0:2379 \
      --etcd-ca ca.pem --etcd-cert agent.pem --etcd-key agent-key.pem \
      --gossip-join hub.fedstate-system:7946 --gossip-keyring /etc/fedstate/gossip/keyring`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAgent(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cfg.Cluster, "cluster", "", "the member cluster this agent serves, as joined to the hub (required)")
	f.StringVar(&o.cfg.Name, "name", "", "the agent's name in etcd (default agent-<cluster>); run one agent per name")
	f.StringVar(&o.region, "region", "", "the cluster's region, announced in gossip")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the member cluster (default: in-cluster, then $KUBECONFIG)")
	f.StringSliceVar(&o.etcd.Endpoints, "etcd-endpoints", o.etcd.Endpoints, "federation etcd client URLs")
	f.StringVar(&o.etcd.CAFile, "etcd-ca", "", "CA bundle that signed the federation etcd's serving certificate")
	f.StringVar(&o.etcd.CertFile, "etcd-cert", "", "client certificate for the federation etcd")
	f.StringVar(&o.etcd.KeyFile, "etcd-key", "", "client key for the federation etcd")
	f.StringVar(&o.etcd.Prefix, "etcd-prefix", o.etcd.Prefix, "etcd prefix of the coordination keys (the hub's failover.etcd.prefix)")
	f.DurationVar(&o.etcd.LeaseTTL, "lease-ttl", o.etcd.LeaseTTL, "TTL of the primary leases and of the agent's session; a primary fences itself after half of it without a renewal")
	f.DurationVar(&o.etcd.RenewInterval, "renew-interval", o.etcd.RenewInterval, "how often leases are renewed (below half the lease TTL)")
	f.DurationVar(&o.etcd.RequestTimeout, "etcd-request-timeout", o.etcd.RequestTimeout, "bound of every single etcd request")
	f.StringVar(&o.cfg.DNSPrefix, "dns-prefix", o.cfg.DNSPrefix, "etcd prefix of the DNS records the hub publishes (replicas' addresses and regions)")
	f.StringVar(&o.cfg.VolumesDir, "volumes-dir", o.cfg.VolumesDir, "data of replicas whose pod has no local persistent volume: <dir>/<namespace>/<pod>/pgdata")
	f.StringVar(&o.cfg.RunDir, "run-dir", o.cfg.RunDir, "sockets, server logs and fencing deadlines: <dir>/<namespace>.<pod> (short: socket paths are limited)")
	f.Uint16Var(&o.cfg.Port, "port", o.cfg.Port, "port of every replica's server on its pod IP")
	f.DurationVar(&o.cfg.ReportInterval, "report-interval", o.cfg.ReportInterval, "how often positions are reported and replicas compared with their commands")
	f.DurationVar(&o.cfg.FenceTimeout, "fence-timeout", o.cfg.FenceTimeout, "a fence that takes longer stops the server hard")
	f.DurationVar(&o.cfg.PrimaryGiveUp, "primary-give-up", o.cfg.PrimaryGiveUp, "a primary whose server fails to start or to open for writes this long is stopped and its lease given up, so that the hub promotes another replica; 0 never gives up")
	f.BoolVar(&o.noWatchdog, "no-watchdog", false, "run no fence watchdog beside primaries (then a killed or paused agent leaves its primaries writable until it returns)")
	f.StringVar(&o.pg.BinDir, "pg-bin-dir", o.pg.BinDir, "directory of initdb, pg_ctl, pg_basebackup, pg_rewind")
	f.StringVar(&o.pg.OSUser, "pg-os-user", o.pg.OSUser, "OS user that runs the servers when the agent runs as root")
	f.StringVar(&o.pg.Superuser, "pg-superuser", o.pg.Superuser, "database superuser the agent connects as over the Unix socket")
	f.StringVar(&o.pg.ReplicationUser, "replication-user", o.pg.ReplicationUser, "role standbys connect as")
	f.StringVar(&o.replPassFile, "replication-password-file", "", "file holding the replication role's password (none: replication is trusted from --replication-networks, loopback only)")
	f.StringSliceVar(&o.replNetworks, "replication-networks", []string{"127.0.0.0/8", "::1/128"}, "client networks allowed to connect for replication")
	f.StringSliceVar(&o.clientNets, "client-networks", nil, "networks applications may connect from over TCP (none: Unix socket only)")
	f.StringVar(&o.pg.ClientAuth, "client-auth", "scram-sha-256", "how those applications authenticate: scram-sha-256, or trust (loopback test federations only)")
	f.BoolVar(&o.pg.NoSync, "pg-no-sync", false, "skip the flush to disk of initdb, base backups and rewinds (throwaway test servers only)")
	f.StringVar(&o.metricsListen, "metrics-listen", "", "address of the Prometheus /metrics endpoint and /healthz (empty: none)")
	f.StringVar(&o.gossipListen, "gossip-listen", "127.0.0.1:0", "UDP and TCP address of the gossip pool")
	f.StringSliceVar(&o.gossipJoin, "gossip-join", nil, "host:port of gossip pool members to join (the hub's); none: no gossip")
	f.StringVar(&o.gossipKeyring, "gossip-keyring", "", "keyring file of the gossip pool: base64 keys, one per line, primary first")
	f.BoolVar(&o.gossipNoCrypt, "gossip-insecure", false, "gossip without encryption (with --insecure-local only)")
	f.BoolVar(&o.insecureLocal, "insecure-local", false, insecureLocalUsage+"; also allows --gossip-insecure")
	f.IntVarP(&o.verbosity, "v", "v", 0, "log verbosity: 0 info, 4 debug")
	return cmd
}

// runAgent runs the agent until ctx ends.
func runAgent(ctx context.Context, o *agentOptions, logOut io.Writer) error {
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.Level(-o.verbosity)}))
	if o.cfg.Cluster == "" {
		return errors.New("--cluster is required: the member cluster this agent serves")
	}
	if err := errors.Join(checkEtcdTransport(o.etcd.Endpoints, o.etcd.CertFile, o.insecureLocal),
		checkGossipTransport(len(o.gossipJoin) > 0 && o.gossipNoCrypt && o.gossipKeyring == "", o.insecureLocal)); err != nil {
		return err
	}
	o.pg.ReplicationNetworks = nil
	for _, s := range o.replNetworks {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("--replication-networks %q: %w", s, err)
		}
		o.pg.ReplicationNetworks = append(o.pg.ReplicationNetworks, p)
	}
	for _, s := range o.clientNets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("--client-networks %q: %w", s, err)
		}
		o.pg.ClientNetworks = append(o.pg.ClientNetworks, p)
	}
	if o.replPassFile != "" {
		b, err := os.ReadFile(o.replPassFile)
		if err != nil {
			return fmt.Errorf("--replication-password-file: %w", err)
		}
		o.pg.ReplicationPassword = strings.TrimSpace(string(b))
	}
	if !o.noWatchdog {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program for the fence watchdog: %w", err)
		}
		o.cfg.Watchdog = []string{exe, "fence-watchdog"}
	}
	if err := o.cfg.Validate(); err != nil {
		return err
	}
	rc, err := restConfig(o.kubeconfig)
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("member cluster client: %w", err)
	}
	o.etcd.Logger = zap.NewNop()
	store, err := coord.Connect(ctx, o.etcd)
	if err != nil {
		return fmt.Errorf("connect to the federation etcd: %w", err)
	}
	defer store.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a, err := agent.New(o.cfg, store, kube, agent.NewPostgres(o.pg), log, reg)
	if err != nil {
		return err
	}
	if o.metricsListen != "" {
		ln, err := net.Listen("tcp", o.metricsListen)
		if err != nil {
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		log.Info("Serving metrics", "listen", ln.Addr().String())
	}
	if len(o.gossipJoin) > 0 {
		pool, err := o.joinGossip(ctx)
		if err != nil {
			return err
		}
		defer func() {
			lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = pool.Leave(lctx)
			pool.Shutdown()
		}()
		log.Info("Joined the gossip pool", "listen", pool.Addr(), "peers", o.gossipJoin)
	}
	return a.Run(ctx)
}

// joinGossip starts the agent's gossip node and joins the pool.
func (o *agentOptions) joinGossip(ctx context.Context) (*gossip.Pool, error) {
	name := o.cfg.Name
	if name == "" {
		name = "agent-" + o.cfg.Cluster
	}
	gc := gossip.DefaultConfig(name)
	gc.Role, gc.Cluster, gc.Region, gc.Join = gossip.RoleAgent, o.cfg.Cluster, o.region, o.gossipJoin
	host, port, err := net.SplitHostPort(o.gossipListen)
	if err != nil {
		return nil, fmt.Errorf("--gossip-listen: %w", err)
	}
	gc.BindAddr = host
	if _, err := fmt.Sscan(port, &gc.BindPort); err != nil {
		return nil, fmt.Errorf("--gossip-listen port %q: %w", port, err)
	}
	switch {
	case o.gossipKeyring != "":
		if gc.Keyring, err = gossip.LoadKeyring(o.gossipKeyring); err != nil {
			return nil, err
		}
	case o.gossipNoCrypt:
		gc.Insecure = true
	default:
		return nil, errors.New("--gossip-join needs --gossip-keyring (or --gossip-insecure with --insecure-local, for a federation on this machine only)")
	}
	pool, err := gossip.New(gc)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Join(ctx); err != nil {
		pool.Shutdown()
		return nil, fmt.Errorf("join the gossip pool: %w", err)
	}
	return pool, nil
}

func newFenceWatchdogCommand() *cobra.Command {
	var deadline, dataDir string
	cmd := &cobra.Command{
		Use:   "fence-watchdog",
		Short: "Stop a primary's server hard when its agent stops renewing the fencing deadline (started by fedstate agent)",
		Long: `fence-watchdog guards one primary. fedstate agent starts it beside each
primary it opens for writes and writes, at every renewal of the primary's
lease in etcd, the time by which the primary must be fenced into
--deadline-file. If that time passes — the agent was killed, paused or hung —
the watchdog stops the server of --data-dir hard (SIGQUIT to its postmaster,
then SIGKILL), before the lease can expire and another replica be promoted.
It leaves when the file is removed or the server is down.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if deadline == "" || dataDir == "" {
				return errors.New("--deadline-file and --data-dir are required")
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			return agent.RunWatchdog(cmd.Context(), deadline, dataDir, log)
		},
	}
	cmd.Flags().StringVar(&deadline, "deadline-file", "", "file holding the fencing deadline (Unix nanoseconds), written by the agent")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "the server's data directory (its postmaster.pid names the process)")
	return cmd
}
