package gossip

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"
)

// ErrShutdown is returned by the methods of a Pool after Shutdown.
var ErrShutdown = errors.New("gossip: pool shut down")

// defaultLeaveTimeout bounds Leave and UpdatePayload when their context
// has no deadline: a few gossip rounds to hand the news to another node.
const defaultLeaveTimeout = 5 * time.Second

// Pool is this node's membership in the federation's gossip pool: a
// running memberlist, this node's view of the other members, and the
// subscriptions to that view's transitions. Its methods are safe for
// concurrent use.
type Pool struct {
	cfg     Config
	log     logr.Logger
	ml      *memberlist.Memberlist
	mlReady atomic.Pointer[memberlist.Memberlist]
	keyring *memberlist.Keyring // nil when Insecure
	view    *view
	metrics *metrics
	addr    string

	metaMu    sync.Mutex // serialises metadata changes
	meta      Meta
	metaBytes atomic.Pointer[[]byte]

	reconnecting atomic.Bool
	// life is held for reading by the calls into memberlist that must not
	// meet its Shutdown (memberlist panics on a Leave after it), and for
	// writing by Shutdown.
	life         sync.RWMutex
	shut         atomic.Bool
	stop         chan struct{}
	wg           sync.WaitGroup
	shutdownOnce sync.Once
	shutdownErr  error
}

// New validates cfg, starts this node's memberlist listening on
// BindAddr:BindPort and returns the Pool. It joins nobody: call Join.
func New(cfg Config) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gossip: config: %w", err)
	}
	p := &Pool{cfg: cfg, log: cfg.Logger.WithName("gossip"), stop: make(chan struct{})}
	p.meta = Meta{Role: cfg.Role, Cluster: cfg.Cluster, Region: cfg.Region, Payload: cfg.Payload}
	b, err := p.meta.Encode()
	if err != nil {
		return nil, err
	}
	p.metaBytes.Store(&b)
	p.metrics = newMetrics(p.HealthScore)
	p.view = newView(cfg.suspicionWindow, cfg.ForgetAfter, p.HealthScore, p.metrics)
	if cfg.Registerer != nil {
		if err := p.metrics.register(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	if err := p.start(); err != nil {
		if cfg.Registerer != nil {
			p.metrics.unregister(cfg.Registerer)
		}
		return nil, err
	}
	p.wg.Add(1)
	go p.loop()
	return p, nil
}

// start creates the transport and memberlist.
func (p *Pool) start() error {
	cfg := p.cfg
	lw := &logWriter{log: p.log.WithName("memberlist"), view: p.view, now: time.Now}
	logger := log.New(lw, "", 0)
	nt, err := listen(cfg, logger)
	if err != nil {
		return err
	}
	var t memberlist.NodeAwareTransport = nt
	if cfg.WrapTransport != nil {
		t = cfg.WrapTransport(nt)
	}
	port := nt.GetAutoBindPort()
	advPort := cfg.AdvertisePort
	if advPort == 0 {
		advPort = port
	}
	ip, advPort, err := t.FinalAdvertiseAddr(cfg.AdvertiseAddr, advPort)
	if err != nil {
		return errors.Join(fmt.Errorf("gossip: advertise address: %w", err), t.Shutdown())
	}
	p.addr = net.JoinHostPort(ip.String(), strconv.Itoa(advPort))

	mc := cfg.memberlistConfig()
	mc.Transport = t
	mc.BindPort, mc.AdvertisePort = port, advPort
	mc.Logger = logger
	h := hooks{p: p}
	mc.Delegate, mc.Events, mc.Ping = h, h, h
	if len(cfg.Keyring) > 0 {
		kr, err := memberlist.NewKeyring(cfg.Keyring, cfg.Keyring[0])
		if err != nil {
			return errors.Join(fmt.Errorf("gossip: keyring: %w", err), t.Shutdown())
		}
		p.keyring, mc.Keyring = kr, kr
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		// Create shuts the transport down on some failures only; a second
		// shutdown of a NetTransport is harmless.
		_ = t.Shutdown()
		return fmt.Errorf("gossip: start memberlist: %w", err)
	}
	p.ml = ml
	p.mlReady.Store(ml)
	return nil
}

// listen opens the UDP and TCP listeners; a port of 0 is retried a few
// times, since the kernel picks the TCP port and UDP may hold it already.
func listen(cfg Config, logger *log.Logger) (*memberlist.NetTransport, error) {
	nc := &memberlist.NetTransportConfig{BindAddrs: []string{cfg.BindAddr}, BindPort: cfg.BindPort, Logger: logger}
	var err error
	for range 10 {
		var nt *memberlist.NetTransport
		if nt, err = memberlist.NewNetTransport(nc); err == nil {
			return nt, nil
		}
		if cfg.BindPort != 0 || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, fmt.Errorf("gossip: listen on %s:%d: %w", cfg.BindAddr, cfg.BindPort, err)
}

// Addr returns the host:port this node advertises to the others.
func (p *Pool) Addr() string { return p.addr }

// Name returns this node's name.
func (p *Pool) Name() string { return p.cfg.Name }

// Join contacts the given host:port peers, or Config.Join without any,
// and syncs state with each reachable one. It returns how many answered;
// the error is nil if any did. It blocks for up to TCPTimeout per peer;
// if ctx ends first Join returns ctx's error and the attempt finishes in
// the background. A node that finds itself alone retries Config.Join by
// itself every ReconnectInterval.
func (p *Pool) Join(ctx context.Context, peers ...string) (int, error) {
	if p.shut.Load() {
		return 0, ErrShutdown
	}
	if len(peers) == 0 {
		peers = p.cfg.Join
	}
	if len(peers) == 0 {
		return 0, errors.New("gossip: join: no peers given and none configured")
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := p.ml.Join(peers)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.n, fmt.Errorf("gossip: join %v: %w", peers, r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("gossip: join %v: %w", peers, ctx.Err())
	}
}

// Leave tells the pool this node is leaving — first in its metadata, so
// the others record it Left rather than Dead, then with memberlist's
// leave message — and waits until both went out to another node, or
// ctx's deadline (5 s without one). The node keeps answering probes until
// Shutdown, which must follow.
func (p *Pool) Leave(ctx context.Context) error {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.shut.Load() {
		return ErrShutdown
	}
	timeout := timeoutOf(ctx)
	if err := p.setMeta(func(m *Meta) { m.Leaving = true }, timeout); err != nil {
		return fmt.Errorf("gossip: leave: %w", err)
	}
	if err := p.ml.Leave(timeout); err != nil {
		return fmt.Errorf("gossip: leave: %w", err)
	}
	return nil
}

// Shutdown stops this node at once, without a leave message: to the
// others it is a crash unless Leave came first. It stops the background
// loop (waiting for an in-flight reconnect attempt, at most TCPTimeout),
// closes every Subscription and unregisters the metrics. Safe to call
// more than once.
func (p *Pool) Shutdown() error {
	p.shutdownOnce.Do(func() {
		p.life.Lock()
		p.shut.Store(true)
		p.life.Unlock()
		close(p.stop)
		p.shutdownErr = p.ml.Shutdown()
		p.wg.Wait()
		p.view.closeSubscriptions()
		if p.cfg.Registerer != nil {
			p.metrics.unregister(p.cfg.Registerer)
		}
	})
	return p.shutdownErr
}

// UpdatePayload replaces this node's payload and gossips the new
// metadata, waiting until it went out to another node or ctx's deadline
// (5 s without one). It fails with ErrMetaTooLarge if the metadata would
// not fit in MaxMetaSize bytes.
func (p *Pool) UpdatePayload(ctx context.Context, payload []byte) error {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.shut.Load() {
		return ErrShutdown
	}
	payload = append([]byte(nil), payload...)
	if err := p.setMeta(func(m *Meta) { m.Payload = payload }, timeoutOf(ctx)); err != nil {
		return fmt.Errorf("gossip: update payload: %w", err)
	}
	return nil
}

// setMeta changes the local metadata and gossips it.
func (p *Pool) setMeta(change func(*Meta), timeout time.Duration) error {
	p.metaMu.Lock()
	defer p.metaMu.Unlock()
	next := p.meta
	change(&next)
	b, err := next.Encode()
	if err != nil {
		return err
	}
	p.meta = next
	p.metaBytes.Store(&b)
	return p.ml.UpdateNode(timeout)
}

// Members returns this node's view of every member, itself included,
// sorted by name: a snapshot that shares nothing with the pool.
func (p *Pool) Members() []Member { return p.view.snapshot() }

// ClusterState returns the state of a member cluster in this node's view:
// Alive if any of its agents is alive, else Suspect if any is suspect,
// else Dead if any is dead, else Left if any left, else Unknown.
func (p *Pool) ClusterState(cluster string) State { return p.view.clusterState(cluster) }

// Subscribe returns a Subscription to the transitions this node sees
// from now on, buffering up to buffer of them (at least 1). To start from
// a consistent picture, subscribe first, then read Members. After
// Shutdown the Subscription comes closed.
func (p *Pool) Subscribe(buffer int) *Subscription {
	s := &Subscription{ch: make(chan Transition, max(buffer, 1)), unsub: p.view.unsubscribe}
	if !p.view.subscribe(s) {
		s.Close()
	}
	return s
}

// HealthScore returns this node's memberlist health score (Lifeguard's
// local awareness): 0 is healthy; it grows while this node's probes miss
// the acks and nacks it expects, that is while this node itself is slow
// or cut off, and memberlist then probes more slowly.
func (p *Pool) HealthScore() int {
	if ml := p.mlReady.Load(); ml != nil {
		return ml.GetHealthScore()
	}
	return 0
}

// timeoutOf converts ctx's deadline to memberlist's timeout.
func timeoutOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return defaultLeaveTimeout
}
