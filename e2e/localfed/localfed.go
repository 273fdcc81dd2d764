// Package localfed runs a whole fedstate federation on one machine: the
// test bed's hub and member clusters (e2e/testbed), a federation etcd of
// one or three members, the hub (fedstate hub), a DNS server per region
// (fedstate dns) and an agent per member (fedstate agent) running real
// PostgreSQL 15 servers. The end-to-end and robustness tests start one per
// package; fault-injecting proxies (e2e/faultnet) sit between each agent
// and etcd and between the hub and each member's API server, so a test
// can cut a region off while it keeps running.
package localfed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/faultnet"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
	"github.com/fedstate/fedstate/replication/coord"
)

// Options configure a federation.
type Options struct {
	// Dir is where everything lives: the test bed, the federation etcd's
	// data, the agents' run directories. It must be traversable by the
	// postgres OS user.
	Dir string
	// Members are the member clusters; nil is testbed.DefaultMembers.
	Members []testbed.MemberSpec
	// EtcdMembers is the size of the federation etcd: 1 or 3.
	EtcdMembers int
	// LeaseTTL, RenewInterval and ReportInterval are the agents' (and the
	// coordination store's) timings.
	LeaseTTL, RenewInterval, ReportInterval time.Duration
	// PrimaryGiveUp is the agents' --primary-give-up; zero keeps theirs.
	PrimaryGiveUp time.Duration
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// Detach lets the federation outlive the process that starts it
	// (fedctl local up): the bed's processes run in sessions of their
	// own, no fault-injecting proxy sits between the parts (a proxy would
	// die with the process that runs it), and the federation's addresses
	// are saved in Dir for Attach.
	Detach bool
}

// requestTimeout bounds each etcd request of the store and the agents:
// coord's default, or a quarter of a lease TTL too short for it (a request
// must end within half the TTL, coord.Config.Validate).
func (o Options) requestTimeout() time.Duration {
	d := coord.DefaultConfig().RequestTimeout
	if o.LeaseTTL > 0 {
		d = min(d, o.LeaseTTL/4)
	}
	return d
}

// Federation is a running local federation.
type Federation struct {
	// Bed is the test bed under it.
	Bed *testbed.Bed
	// Hub is a client of the hub cluster with fedstate's kinds.
	Hub client.Client
	// Store is a connection to the federation etcd.
	Store *coord.Store
	// EtcdURLs are the federation etcd's client URLs, one per member.
	EtcdURLs []string
	// DNS are the DNS servers' addresses (host:port), one per region, in
	// the order of the members.
	DNS []string
	// Fedstate is the fedstate binary the components run.
	Fedstate string
	// RunDir holds the agents' run folders: sockets, PostgreSQL logs,
	// fencing deadlines.
	RunDir string
	// DrillReportDir is where the hub writes FailoverDrill reports
	// (--drill-report-dir): <Options.Dir>/drills.
	DrillReportDir string

	opts      Options
	etcdProxy map[string][]*faultnet.Proxy // agent → etcd, by member cluster
	apiProxy  map[string]*faultnet.Proxy   // hub → member API server
}

// Start builds what is missing and starts a federation in opts.Dir; Close
// stops it.
func Start(ctx context.Context, opts Options) (*Federation, error) {
	if opts.Members == nil {
		opts.Members = testbed.DefaultMembers()
	}
	if opts.EtcdMembers == 0 {
		opts.EtcdMembers = 1
	}
	if opts.EtcdMembers != 1 && opts.EtcdMembers != 3 {
		return nil, fmt.Errorf("localfed: EtcdMembers %d: want 1 or 3", opts.EtcdMembers)
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	f := &Federation{opts: opts, etcdProxy: map[string][]*faultnet.Proxy{}, apiProxy: map[string]*faultnet.Proxy{}}
	if err := f.start(ctx); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func (f *Federation) start(ctx context.Context) error {
	o := f.opts
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(o.Dir, 0o755); err != nil {
		return err
	}
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: o.Progress})
	if err != nil {
		return err
	}
	root, ok := testbed.SourceRoot()
	if !ok {
		return errors.New("localfed: cannot find the source tree")
	}
	f.Fedstate = filepath.Join(o.Dir, "fedstate")
	build := exec.CommandContext(ctx, "go", "build", "-o", f.Fedstate, "./cmd/fedstate")
	build.Dir, build.Stdout, build.Stderr = root, o.Progress, o.Progress
	if err := build.Run(); err != nil {
		return fmt.Errorf("build fedstate: %w", err)
	}
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir, cfg.Members, cfg.Detach = bins, filepath.Join(o.Dir, "bed"), o.Members, o.Detach
	cfg.Progress = o.Progress
	if f.Bed, err = testbed.Start(ctx, cfg); err != nil {
		return err
	}
	scheme, err := hub.Scheme()
	if err != nil {
		return err
	}
	hubRC, err := f.Bed.RESTConfig(testbed.HubName)
	if err != nil {
		return err
	}
	if err := testbed.InstallCRDs(ctx, hubRC, filepath.Join(root, "config", "crd", "bases")); err != nil {
		return err
	}
	if f.Hub, err = client.New(hubRC, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if err := f.startEtcd(ctx, bins.Etcd); err != nil {
		return err
	}
	ccfg := coord.DefaultConfig()
	ccfg.Endpoints, ccfg.Logger = f.EtcdURLs, zap.NewNop()
	if o.LeaseTTL > 0 {
		ccfg.LeaseTTL = o.LeaseTTL
	}
	ccfg.RequestTimeout = o.requestTimeout()
	if o.RenewInterval > 0 {
		ccfg.RenewInterval = o.RenewInterval
	}
	if f.Store, err = coord.Connect(ctx, ccfg); err != nil {
		return err
	}
	for _, m := range o.Members {
		if err := f.join(ctx, m); err != nil {
			return err
		}
	}
	hubCluster, err := f.Bed.Cluster(testbed.HubName)
	if err != nil {
		return err
	}
	f.DrillReportDir = filepath.Join(o.Dir, "drills")
	if err := f.Bed.AddProcess(testbed.HubName, testbed.ProcessSpec{Name: HubProcess, Path: f.Fedstate, Args: []string{
		"hub", "--kubeconfig", hubCluster.Kubeconfig, "--etcd-endpoints", strings.Join(f.EtcdURLs, ","),
		"--metrics-bind-address", "", "--health-probe-bind-address", "", "--leader-elect=false", "-v", "1",
		"--drill-report-dir", f.DrillReportDir,
		"--insecure-local", // plaintext etcd on loopback
	}}); err != nil {
		return err
	}
	for _, m := range o.Members {
		addr, err := FreeAddr()
		if err != nil {
			return err
		}
		f.DNS = append(f.DNS, addr)
		if err := f.Bed.AddProcess(testbed.HubName, testbed.ProcessSpec{Name: DNSProcess(m.Name), Path: f.Fedstate, Args: []string{
			"dns", "--etcd-endpoints", strings.Join(f.EtcdURLs, ","), "--listen", addr, "--region", m.Region, "--metrics-listen", "",
			"--insecure-local", "--rate-limit", "0", // every query of the tests comes from loopback
		}}); err != nil {
			return err
		}
	}
	// Unix socket paths are short: the run folder lives under /tmp.
	if f.RunDir, err = os.MkdirTemp("/tmp", "fsr"); err != nil {
		return err
	}
	if err := os.Chmod(f.RunDir, 0o755); err != nil {
		return err
	}
	for _, m := range o.Members {
		if err := f.startAgent(m, f.RunDir); err != nil {
			return err
		}
	}
	if err := f.membersReady(ctx); err != nil {
		return err
	}
	if o.Detach {
		return f.save()
	}
	return nil
}

// startEtcd starts the federation etcd's members as processes of the hub
// cluster and waits until they serve.
func (f *Federation) startEtcd(ctx context.Context, bin string) error {
	n := f.opts.EtcdMembers
	clients, peers := make([]string, n), make([]string, n)
	var initial []string
	for i := range n {
		c, err := FreeAddr()
		if err != nil {
			return err
		}
		p, err := FreeAddr()
		if err != nil {
			return err
		}
		clients[i], peers[i] = "http://"+c, "http://"+p
		initial = append(initial, fmt.Sprintf("fed-%d=%s", i, peers[i]))
	}
	for i := range n {
		if err := f.Bed.AddProcess(testbed.HubName, testbed.ProcessSpec{Name: EtcdProcess(i), Path: bin, Args: []string{
			"--name=fed-" + strconv.Itoa(i), "--data-dir=" + filepath.Join(f.opts.Dir, "federation-etcd", strconv.Itoa(i)),
			"--listen-client-urls=" + clients[i], "--advertise-client-urls=" + clients[i],
			"--listen-peer-urls=" + peers[i], "--initial-advertise-peer-urls=" + peers[i],
			"--initial-cluster=" + strings.Join(initial, ","), "--initial-cluster-state=new",
			"--unsafe-no-fsync", "--log-level=warn",
		}}); err != nil {
			return err
		}
	}
	f.EtcdURLs = clients
	fmt.Fprintf(f.opts.Progress, "localfed: federation etcd of %d on %s\n", n, strings.Join(clients, ","))
	return nil
}

// join makes member m a member of the federation, the hub reaching its API
// server through a proxy.
func (f *Federation) join(ctx context.Context, m testbed.MemberSpec) error {
	mrc, err := f.Bed.RESTConfig(m.Name)
	if err != nil {
		return err
	}
	if !f.opts.Detach {
		p, err := faultnet.Listen(strings.TrimPrefix(mrc.Host, "https://"))
		if err != nil {
			return err
		}
		f.apiProxy[m.Name] = p
		mrc = rest.CopyConfig(mrc)
		mrc.Host = "https://" + p.Addr()
	}
	_, err = membership.Join(ctx, f.Hub, mrc, membership.Options{Name: m.Name, Region: m.Region, Zone: m.Zone})
	return err
}

// startAgent starts member m's agent, reaching etcd through proxies
// unless detached.
func (f *Federation) startAgent(m testbed.MemberSpec, runDir string) error {
	c, err := f.Bed.Cluster(m.Name)
	if err != nil {
		return err
	}
	endpoints := f.EtcdURLs
	if !f.opts.Detach {
		endpoints = nil
		for _, u := range f.EtcdURLs {
			p, err := faultnet.Listen(strings.TrimPrefix(u, "http://"))
			if err != nil {
				return err
			}
			f.etcdProxy[m.Name] = append(f.etcdProxy[m.Name], p)
			endpoints = append(endpoints, "http://"+p.Addr())
		}
	}
	o := f.opts
	args := []string{
		"agent", "--cluster", m.Name, "--region", m.Region, "--kubeconfig", c.Kubeconfig,
		"--etcd-endpoints", strings.Join(endpoints, ","),
		"--volumes-dir", filepath.Join(f.Bed.VolumeDir(m.Name), "unclaimed"),
		"--run-dir", filepath.Join(runDir, m.Name),
		"--client-networks", "127.0.0.0/8", "--client-auth", "trust", "--pg-no-sync", "--insecure-local",
	}
	if o.LeaseTTL > 0 {
		args = append(args, "--lease-ttl", o.LeaseTTL.String())
	}
	args = append(args, "--etcd-request-timeout", o.requestTimeout().String())
	if o.RenewInterval > 0 {
		args = append(args, "--renew-interval", o.RenewInterval.String())
	}
	if o.ReportInterval > 0 {
		args = append(args, "--report-interval", o.ReportInterval.String())
	}
	if o.PrimaryGiveUp > 0 {
		args = append(args, "--primary-give-up", o.PrimaryGiveUp.String())
	}
	return f.Bed.AddProcess(m.Name, testbed.ProcessSpec{Name: AgentProcess, Path: f.Fedstate, Args: args})
}

// AgentProcess is the name of each member's agent among the bed's
// processes of that member (Bed.StopProcess, PauseProcess...).
const AgentProcess = "fedstate-agent"

// HubProcess is the name of the hub among the bed's processes of the hub
// cluster.
const HubProcess = "fedstate-hub"

// DNSProcess is the name of the DNS server of member's region among the
// bed's processes of the hub cluster.
func DNSProcess(member string) string { return "fedstate-dns-" + member }

// EtcdProcess is the name of federation etcd member i among the bed's
// processes of the hub cluster.
func EtcdProcess(i int) string { return "federation-etcd-" + strconv.Itoa(i) }

// membersReady waits until the hub reports every member Ready, so that
// services are placed over every region from the start.
func (f *Federation) membersReady(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var list v1alpha1.MemberClusterList
		ready := 0
		if err := f.Hub.List(ctx, &list); err == nil {
			for _, mc := range list.Items {
				if meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberReady) {
					ready++
				}
			}
		}
		if ready == len(f.opts.Members) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localfed: %d of %d members Ready after 2 minutes", ready, len(f.opts.Members))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Partition cuts member's region off the federation: its agent from etcd
// and the hub from its API server. The region keeps running.
func (f *Federation) Partition(member string) {
	for _, p := range f.etcdProxy[member] {
		p.Partition()
	}
	if p := f.apiProxy[member]; p != nil {
		p.Partition()
	}
}

// PartitionEtcd cuts only member's agent off the federation etcd.
func (f *Federation) PartitionEtcd(member string) {
	for _, p := range f.etcdProxy[member] {
		p.Partition()
	}
}

// Heal ends member's partitions.
func (f *Federation) Heal(member string) {
	for _, p := range f.etcdProxy[member] {
		p.Heal()
	}
	if p := f.apiProxy[member]; p != nil {
		p.Heal()
	}
}

// Close stops everything.
func (f *Federation) Close() error {
	var errs []error
	if f.Store != nil {
		errs = append(errs, f.Store.Close())
	}
	if f.Bed != nil {
		errs = append(errs, f.Bed.Close())
	}
	if f.RunDir != "" {
		errs = append(errs, os.RemoveAll(f.RunDir))
	}
	for _, ps := range f.etcdProxy {
		for _, p := range ps {
			_ = p.Close()
		}
	}
	for _, p := range f.apiProxy {
		_ = p.Close()
	}
	return errors.Join(errs...)
}

// FreeAddr returns a loopback address with a port free now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
