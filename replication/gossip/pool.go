package gossip

import (
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
		// memberlist first, so that the node goes silent at once. A
		// reconnect Join still in flight may then push this node's state
		// to a peer once more; that state carries no newer incarnation, so
		// it cannot bring the node back to life in anyone's view.
		p.shutdownErr = p.ml.Shutdown()
		p.wg.Wait()
		p.view.closeSubscriptions()
		if p.cfg.Registerer != nil {
			p.metrics.unregister(p.cfg.Registerer)
		}
	})
	return p.shutdownErr
}
