package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Bed is a running test bed. Its methods are safe for concurrent use; the
// ones that start or stop processes block until that is done.
type Bed struct {
	mu    sync.Mutex
	state State
	sup   supervisor
	out   io.Writer
	// readyTimeout and stopTimeout come from Config (or defaults, when
	// attached).
	readyTimeout, stopTimeout time.Duration
	// nodesPerMember and volumesPerMember are used when seeding members.
	nodesPerMember, volumesPerMember int

	// APIServersReady is the time from Start to every API server answering
	// /readyz; Ready is the time until member nodes were ready too.
	APIServersReady, Ready time.Duration
}

// Start brings up etcd, the hub and every member, and returns once every
// API server is ready and every member's nodes are Ready. On error it stops
// whatever it started.
func Start(ctx context.Context, cfg Config) (*Bed, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("testbed config: %w", err)
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return nil, fmt.Errorf("testbed: %s already holds a test bed; stop it first (fedctl testbed down)", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Programs running as another user (PostgreSQL as postgres) reach the
	// volumes through the state folder, often made 0700 by os.MkdirTemp.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	b := &Bed{
		state:            State{Dir: dir, Binaries: cfg.Binaries, Detached: cfg.Detach},
		sup:              supervisor{detach: cfg.Detach, exited: map[int]chan struct{}{}},
		out:              cfg.Progress,
		readyTimeout:     cfg.ReadyTimeout,
		stopTimeout:      cfg.StopTimeout,
		nodesPerMember:   cfg.NodesPerMember,
		volumesPerMember: cfg.VolumesPerMember,
	}
	if b.out == nil {
		b.out = io.Discard
	}
	if b.state.PodNet, err = claimPodNet(dir); err != nil {
		return nil, err
	}
	if closed := closedAncestor(dir); closed != "" && len(cfg.Members) > 0 {
		fmt.Fprintf(b.out, "testbed: warning: other users cannot enter %s, so programs running as another user (PostgreSQL as postgres) cannot reach the volumes\n", closed)
	}
	if err := b.start(ctx, cfg.Members); err != nil {
		return nil, errors.Join(err, b.Close())
	}
	return b, nil
}

func (b *Bed) start(ctx context.Context, members []MemberSpec) error {
	begin := time.Now()
	if err := b.startEtcd(ctx); err != nil {
		return err
	}
	specs := append([]MemberSpec{{Name: HubName}}, members...)
	for i, m := range specs {
		c, err := b.prepareCluster(m, i)
		if err != nil {
			return err
		}
		b.state.Clusters = append(b.state.Clusters, c)
	}
	for i := range b.state.Clusters {
		if err := b.sup.start(&b.state.Clusters[i].Processes[0]); err != nil {
			return err
		}
	}
	if err := b.state.save(); err != nil {
		return err
	}
	if err := b.eachCluster(ctx, b.waitAPIServer); err != nil {
		return err
	}
	b.APIServersReady = time.Since(begin)
	fmt.Fprintf(b.out, "testbed: %d API servers ready after %s\n", len(b.state.Clusters), b.APIServersReady.Round(time.Millisecond))
	for i := range b.state.Clusters {
		c := &b.state.Clusters[i]
		if err := writeKubeconfig(c, filepath.Join(b.state.Dir, c.Name)); err != nil {
			return err
		}
		for j := 1; j < len(c.Processes); j++ {
			if err := b.sup.start(&c.Processes[j]); err != nil {
				return err
			}
		}
	}
	if err := b.state.save(); err != nil {
		return err
	}
	if err := b.eachCluster(ctx, b.seedMember); err != nil {
		return err
	}
	b.Ready = time.Since(begin)
	fmt.Fprintf(b.out, "testbed: members seeded and nodes ready after %s\n", b.Ready.Round(time.Millisecond))
	return nil
}

// eachCluster runs f for every cluster concurrently and joins the errors.
func (b *Bed) eachCluster(ctx context.Context, f func(context.Context, *Cluster) error) error {
	errs := make([]error, len(b.state.Clusters))
	var wg sync.WaitGroup
	for i := range b.state.Clusters {
		wg.Go(func() { errs[i] = f(ctx, &b.state.Clusters[i]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Attach returns the bed recorded in stateDir by a Start in another process
// (fedctl testbed up), to query, stop or restart it.
func Attach(stateDir string) (*Bed, error) {
	dir, err := filepath.Abs(stateDir)
	if err != nil {
		return nil, err
	}
	s, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	d := DefaultConfig()
	return &Bed{
		state:            s,
		sup:              supervisor{detach: s.Detached, exited: map[int]chan struct{}{}},
		out:              io.Discard,
		readyTimeout:     d.ReadyTimeout,
		stopTimeout:      d.StopTimeout,
		nodesPerMember:   d.NodesPerMember,
		volumesPerMember: d.VolumesPerMember,
	}, nil
}

// SetProgress directs progress lines to w.
func (b *Bed) SetProgress(w io.Writer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.out = w
}

// Dir is the bed's state folder.
func (b *Bed) Dir() string { return b.state.Dir }

// EtcdURL is the client URL of the bed's etcd.
func (b *Bed) EtcdURL() string { return b.state.EtcdURL }

// Binaries are the programs the bed runs.
func (b *Bed) Binaries() Binaries { return b.state.Binaries }

// Clusters returns the hub, then the members.
func (b *Bed) Clusters() []Cluster {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Cluster, len(b.state.Clusters))
	for i, c := range b.state.Clusters {
		out[i] = c
		out[i].Processes = append([]Process(nil), c.Processes...)
		out[i].Extra = append([]Process(nil), c.Extra...)
	}
	return out
}

// Cluster returns the cluster called name.
func (b *Bed) Cluster(name string) (Cluster, error) {
	for _, c := range b.Clusters() {
		if c.Name == name {
			return c, nil
		}
	}
	return Cluster{}, fmt.Errorf("testbed: no cluster %q", name)
}

// RESTConfig is the admin client configuration of the cluster called name.
func (b *Bed) RESTConfig(name string) (*rest.Config, error) {
	c, err := b.Cluster(name)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig of %s: %w", name, err)
	}
	return cfg, nil
}

// PIDs lists the process IDs of every running process of the bed.
func (b *Bed) PIDs() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	var pids []int
	for _, p := range b.processes(nil) {
		if p.PID > 0 {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// processes lists the processes of the named clusters (all when names is
// nil), added programs before controllers before API servers and etcd
// last: the stop order.
func (b *Bed) processes(names map[string]bool) []*Process {
	var out []*Process
	for i := range b.state.Clusters {
		c := &b.state.Clusters[i]
		if names != nil && !names[c.Name] {
			continue
		}
		for j := len(c.Extra) - 1; j >= 0; j-- {
			out = append(out, &c.Extra[j])
		}
		for j := len(c.Processes) - 1; j >= 0; j-- {
			out = append(out, &c.Processes[j])
		}
	}
	if names == nil {
		out = append(out, &b.state.Etcd)
	}
	return out
}

// Close stops every process of the bed, kills the PostgreSQL servers
// working in the members' volumes and removes the state folder. It is safe
// to call more than once.
func (b *Bed) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Dir == "" {
		return nil
	}
	// Controllers first, then API servers, then etcd, so nothing logs a
	// storm of connection errors on the way down.
	all := b.processes(nil)
	var errs []error
	for _, group := range [][]*Process{all[:len(all)-1], all[len(all)-1:]} {
		if err := b.sup.stop(group, b.stopTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range b.state.Clusters {
		if err := killPostgres(b.VolumeDir(c.Name), b.stopTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		_ = b.state.save()
		return fmt.Errorf("testbed: stop: %w", errors.Join(errs...))
	}
	if err := os.RemoveAll(b.state.Dir); err != nil {
		return fmt.Errorf("testbed: remove state: %w", err)
	}
	releasePodNet(b.state.PodNet, b.state.Dir)
	b.state.Dir = ""
	return nil
}

// StopCluster kills every process of one cluster with SIGKILL, as in an
// outage of its whole region: the programs added with AddProcess, the
// controllers and the API server, then the PostgreSQL servers working in
// the cluster's volumes (see VolumeDir). It returns once they are all
// gone. The cluster's objects stay in etcd and its volumes on disk.
func (b *Bed) StopCluster(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.clusterLocked(name); err != nil {
		return err
	}
	if err := b.killCluster(name); err != nil {
		return err
	}
	return b.state.save()
}

// killCluster kills the cluster's processes, then, once nothing is left
// to restart them, the PostgreSQL servers in its volumes.
func (b *Bed) killCluster(name string) error {
	ps := b.processes(map[string]bool{name: true})
	if err := b.sup.kill(ps, ps); err != nil {
		return fmt.Errorf("testbed: stop %s: %w", name, err)
	}
	return killPostgres(b.VolumeDir(name), b.stopTimeout)
}

// StartCluster starts a stopped cluster again: its API server, then its
// controllers, and once its nodes are Ready the programs added with
// AddProcess. It returns when they all run; it does not start PostgreSQL,
// which is the member agent's job. A cluster that still runs is killed
// first, as by StopCluster.
func (b *Bed) StartCluster(ctx context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.clusterLocked(name)
	if err != nil {
		return err
	}
	// Anything left of the cluster goes first, so that the restart is clean.
	if err := b.killCluster(name); err != nil {
		return err
	}
	if err := b.sup.start(&c.Processes[0]); err != nil {
		return err
	}
	if err := b.waitAPIServer(ctx, c); err != nil {
		return err
	}
	for j := 1; j < len(c.Processes); j++ {
		if err := b.sup.start(&c.Processes[j]); err != nil {
			return err
		}
	}
	if err := b.state.save(); err != nil {
		return err
	}
	if err := b.waitNodesReady(ctx, c); err != nil {
		return err
	}
	for j := range c.Extra {
		if err := b.sup.start(&c.Extra[j]); err != nil {
			return err
		}
	}
	return b.state.save()
}

func (b *Bed) clusterLocked(name string) (*Cluster, error) {
	for i := range b.state.Clusters {
		if b.state.Clusters[i].Name == name {
			return &b.state.Clusters[i], nil
		}
	}
	return nil, fmt.Errorf("testbed: no cluster %q", name)
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
