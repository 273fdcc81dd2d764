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

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/fedstate/fedstate/dnsserver"
)

// dnsOptions are the flags of fedstate dns.
type dnsOptions struct {
	cfg           dnsserver.Config
	nameServers   []string
	endpoints     []string
	dialTimeout   time.Duration
	etcdCert      string
	etcdKey       string
	etcdCA        string
	metricsListen string
	verbosity     int
	transferFrom  []string
	tsigKeys      []string
	tsigKeyFile   string
	notify        []string
	insecureLocal bool
}

func newDNSCommand() *cobra.Command { return newDNSCommandWith(&dnsOptions{}) }

// newDNSCommandWith builds fedstate dns with its flags bound to o.
func newDNSCommandWith(o *dnsOptions) *cobra.Command {
	o.cfg = dnsserver.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Serve the federation zone over DNS from the records in the federation etcd",
		Long: `fedstate dns is an authoritative DNS server for the federation zone. It reads
the records the hub publishes under --prefix in the federation etcd with one
range read, follows them with a watch, and answers every query from an
immutable in-memory snapshot: no query waits for etcd. The SOA serial is the
etcd revision of the snapshot, so servers on the same serial answer the same.

Run one per region with --region set: SRV answers give targets in the
server's own region the larger weight. If the etcd watch is silent for longer
than --stale-after, names of primaries answer SERVFAIL (never a possibly
stale primary) while every other name keeps answering, the metric
fedstate_dns_watch_stale is 1 and /healthz fails; the server recovers by
itself when etcd is back.

Safe defaults: the federation etcd must be TLS with a client certificate
(plaintext to loopback only with --insecure-local, for a federation on one
machine); each client network gets at most --rate-limit UDP responses per
second; nobody may transfer the zone, and networks allowed to with
--transfer-from must sign with a --tsig-key (docs/security.md).

Metrics (Prometheus) are served on --metrics-listen at /metrics, health at
/healthz and /readyz. SIGINT or SIGTERM stops the server gracefully.`,
		Example: `  fedstate dns --etcd-endpoints https://etcd-0:2379 --etcd-ca ca.pem \
      --etcd-cert dns.pem --etcd-key dns-key.pem --region eu-west
  fedstate dns --insecure-local --etcd-endpoints http://127.0.0.1:2379 \
      --listen 127.0.0.1:53 --zone fedstate.example. \
      --nameserver ns1.fedstate.example.=127.0.0.1 --hostmaster hostmaster.fedstate.example.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDNS(cmd.Context(), o, cmd.ErrOrStderr(), nil)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func (o *dnsOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&c.Zone, "zone", c.Zone, "fully qualified, lower-case zone to serve")
	f.StringVar(&c.Region, "region", c.Region, "region of this server; SRV targets in it get the larger weight")
	f.StringArrayVar(&o.nameServers, "nameserver", nil,
		"NS record of the zone as HOST or HOST=ADDR[,ADDR...] (repeatable); a HOST inside the zone needs addresses, served as its A/AAAA (default "+formatNameServers(c.NameServers)+")")
	f.StringVar(&c.Hostmaster, "hostmaster", c.Hostmaster, "SOA RNAME: the zone administrator's mailbox as a domain name")
	f.DurationVar(&c.TTL, "ttl", c.TTL, "TTL of positive answers, SOA and NS records (whole seconds)")
	f.DurationVar(&c.NegativeTTL, "negative-ttl", c.NegativeTTL, "how long resolvers may cache NXDOMAIN and NODATA: the SOA MINIMUM (whole seconds)")
	f.StringVar(&c.Prefix, "prefix", c.Prefix, "etcd key prefix of the DNS records (starts and ends with /)")
	f.DurationVar(&c.StaleAfter, "stale-after", c.StaleAfter, "watch-loss bound: after this long without news from etcd, primary names answer SERVFAIL and health fails")
	f.DurationVar(&c.ProgressInterval, "progress-interval", c.ProgressInterval, "how often to ask etcd for watch progress, proving the watch alive (shorter than --stale-after)")
	f.DurationVar(&c.RequestTimeout, "etcd-request-timeout", c.RequestTimeout, "deadline of each etcd request (range read, progress request)")
	f.DurationVar(&c.RetryInterval, "retry-interval", c.RetryInterval, "pause before reloading the records after the watch is lost")
	f.StringVar(&c.Listen, "listen", c.Listen, "UDP and TCP address (IP:port) to answer DNS queries on")
	f.DurationVar(&c.TCPIdleTimeout, "tcp-idle-timeout", c.TCPIdleTimeout, "close a DNS-over-TCP connection idle for this long")
	f.IntVar(&c.MaxTCPQueries, "max-tcp-queries", c.MaxTCPQueries, "queries one TCP connection may carry before it is closed (-1: unlimited)")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "on SIGINT/SIGTERM, how long in-flight queries and scrapes may take to finish")
	f.StringSliceVar(&o.endpoints, "etcd-endpoints", []string{"http://127.0.0.1:2379"}, "URLs of the federation etcd (comma-separated or repeated)")
	f.DurationVar(&o.dialTimeout, "etcd-dial-timeout", 5*time.Second, "deadline of the first connection to etcd")
	f.StringVar(&o.etcdCert, "etcd-cert", "", "client certificate file for etcd over TLS")
	f.StringVar(&o.etcdKey, "etcd-key", "", "client key file for etcd over TLS")
	f.StringVar(&o.etcdCA, "etcd-ca", "", "CA bundle that signed etcd's serving certificate")
	f.StringVar(&o.metricsListen, "metrics-listen", "127.0.0.1:9153", "HTTP address (IP:port) of /metrics, /healthz and /readyz; empty disables it")
	f.StringSliceVar(&o.transferFrom, "transfer-from", nil, "client networks (CIDR, comma-separated or repeated) allowed to transfer the zone over TCP (AXFR, IXFR), signed with a --tsig-key; none by default")
	f.StringArrayVar(&o.tsigKeys, "tsig-key", nil, "TSIG key as NAME:BASE64SECRET (repeatable); zone transfers must be signed with one of them, and signed queries get signed answers")
	f.StringVar(&o.tsigKeyFile, "tsig-key-file", "", "file of TSIG keys, one NAME:BASE64SECRET a line (# comments): like --tsig-key, but the secrets stay out of the process list")
	f.StringSliceVar(&o.notify, "notify", nil, "secondaries (IP:port, comma-separated or repeated) sent a NOTIFY whenever the records change")
	f.IntVar(&c.RateLimit, "rate-limit", c.RateLimit, "UDP responses per second per client network (IPv4 /24, IPv6 /56), in bursts of as many; 0: no limit")
	f.IntVar(&c.RateLimitSlip, "rate-limit-slip", c.RateLimitSlip, "answer every Nth query over --rate-limit truncated (the client retries over TCP) and drop the others; 0 drops all")
	f.IntVar(&c.IXFRJournal, "ixfr-journal", c.IXFRJournal, "how many of the latest changes IXFR answers with differences; a secondary further behind gets the whole zone (0: always the zone)")
	f.BoolVar(&o.insecureLocal, "insecure-local", false, insecureLocalUsage+"; also allows unsigned zone transfers")
	f.IntVarP(&o.verbosity, "v", "v", 0, "log verbosity: 0 for changes of state, 1 and more for detail")
}

// config returns the validated server configuration the flags describe.
func (o *dnsOptions) config() (dnsserver.Config, error) {
	cfg := o.cfg
	if len(o.nameServers) > 0 {
		cfg.NameServers = nil
		for _, s := range o.nameServers {
			ns, err := parseNameServer(s)
			if err != nil {
				return cfg, err
			}
			cfg.NameServers = append(cfg.NameServers, ns)
		}
	}
	var errs []error
	for _, s := range o.transferFrom {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--transfer-from %q: %w", s, err))
		}
		cfg.TransferFrom = append(cfg.TransferFrom, p)
	}
	keys := append([]string(nil), o.tsigKeys...)
	if o.tsigKeyFile != "" {
		b, err := os.ReadFile(o.tsigKeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("--tsig-key-file: %w", err))
		}
		for line := range strings.Lines(string(b)) {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				keys = append(keys, line)
			}
		}
	}
	for _, s := range keys {
		name, secret, ok := strings.Cut(s, ":")
		if !ok {
			errs = append(errs, errors.New("--tsig-key: want NAME:BASE64SECRET")) // the value may be a secret: not repeated
			continue
		}
		if cfg.TSIGKeys == nil {
			cfg.TSIGKeys = map[string]string{}
		}
		cfg.TSIGKeys[name] = secret
	}
	for _, s := range o.notify {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--notify %q: %w", s, err))
		}
		cfg.NotifyTargets = append(cfg.NotifyTargets, ap)
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(o.endpoints) == 0 {
		errs = append(errs, errors.New("--etcd-endpoints: at least one is required"))
	}
	if o.metricsListen != "" {
		if _, err := netip.ParseAddrPort(o.metricsListen); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-listen %q: %w", o.metricsListen, err))
		}
	}
	if (o.etcdCert == "") != (o.etcdKey == "") {
		errs = append(errs, errors.New("--etcd-cert and --etcd-key go together"))
	}
	if len(o.endpoints) > 0 {
		errs = append(errs, checkEtcdTransport(o.endpoints, o.etcdCert, o.insecureLocal), plaintextLoopbackOnly(o.endpoints))
	}
	if len(cfg.TransferFrom) > 0 && len(cfg.TSIGKeys) == 0 && !o.insecureLocal {
		errs = append(errs, errors.New("--transfer-from without a TSIG key: anyone with an address in those networks could take the zone; "+
			"give --tsig-key-file FILE (or --tsig-key NAME:BASE64SECRET), or --insecure-local for a federation on this machine only"))
	}
	return cfg, errors.Join(errs...)
}

// parseNameServer parses HOST or HOST=ADDR[,ADDR...].
func parseNameServer(s string) (dnsserver.NameServer, error) {
	host, list, _ := strings.Cut(s, "=")
	ns := dnsserver.NameServer{Host: host}
	if list == "" {
		return ns, nil
	}
	for _, a := range strings.Split(list, ",") {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return ns, fmt.Errorf("--nameserver %q: %w", s, err)
		}
		ns.Addrs = append(ns.Addrs, addr)
	}
	return ns, nil
}

func formatNameServers(nss []dnsserver.NameServer) string {
	var parts []string
	for _, ns := range nss {
		var addrs []string
		for _, a := range ns.Addrs {
			addrs = append(addrs, a.String())
		}
		parts = append(parts, ns.Host+"="+strings.Join(addrs, ","))
	}
	return strings.Join(parts, " ")
}

// runDNS runs the server until ctx ends. When ready is not nil it receives
// the DNS and metrics addresses once both listen (tests use it).
func runDNS(ctx context.Context, o *dnsOptions, logOut io.Writer, ready chan<- [2]string) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	log := logr.FromSlogHandler(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.Level(-o.verbosity)}))
	ctx = logr.NewContext(ctx, log)
	cli, err := o.etcdClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	// A registry per run: the server's metrics and the process's.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := dnsserver.New(cfg, cli, reg)
	if err != nil {
		return err
	}
	pc, ln, err := dnsserver.Listen(cfg.Listen)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, pc, ln) })
	metricsAddr := ""
	if o.metricsListen != "" {
		mln, err := net.Listen("tcp", o.metricsListen)
		if err != nil {
			pc.Close()
			ln.Close()
			return fmt.Errorf("listen metrics %s: %w", o.metricsListen, err)
		}
		metricsAddr = mln.Addr().String()
		g.Go(func() error { return serveHTTP(gctx, mln, srv, reg, cfg.ShutdownTimeout) })
	}
	log.Info("Serving DNS", "zone", cfg.Zone, "listen", ln.Addr().String(), "metrics", metricsAddr,
		"region", cfg.Region, "etcd", strings.Join(o.endpoints, ","), "prefix", cfg.Prefix)
	if ready != nil {
		ready <- [2]string{ln.Addr().String(), metricsAddr}
	}
	err = g.Wait()
	log.Info("Stopped serving DNS")
	return err
}

func (o *dnsOptions) etcdClient() (*clientv3.Client, error) {
	c := clientv3.Config{Endpoints: o.endpoints, DialTimeout: o.dialTimeout, Logger: zap.NewNop()}
	if o.etcdCert != "" || o.etcdCA != "" {
		tlsInfo := transport.TLSInfo{CertFile: o.etcdCert, KeyFile: o.etcdKey, TrustedCAFile: o.etcdCA}
		tc, err := tlsInfo.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("etcd TLS: %w", err)
		}
		c.TLS = tc
	}
	cli, err := clientv3.New(c)
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return cli, nil
}

// serveHTTP serves /metrics, /healthz and /readyz until ctx ends, then
// shuts down within timeout.
func serveHTTP(ctx context.Context, ln net.Listener, srv *dnsserver.Server, g prometheus.Gatherer, timeout time.Duration) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.Handle("/healthz", srv.HealthHandler())
	mux.Handle("/readyz", srv.HealthHandler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down metrics: %w", err)
	}
	return nil
}
