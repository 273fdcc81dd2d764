package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"
)

// udpReadSize is the buffer for one incoming UDP query: queries with EDNS
// options exceed 512 bytes, and none needs more than this.
const udpReadSize = 4096

// Server is one authoritative DNS server: a Source fed by etcd, a Handler
// and UDP and TCP listeners. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	source  *Source
	handler *Handler
}

// New returns a Server reading records through cli and registering its
// metrics on reg. It validates cfg and does no I/O.
func New(cfg Config, cli *clientv3.Client, reg prometheus.Registerer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dns config: %w", err)
	}
	m, err := NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register DNS metrics: %w", err)
	}
	src, err := NewSource(cfg, cli, m)
	if err != nil {
		return nil, err
	}
	h := NewHandler(src, m).WithTransfers(TransferPolicy{Allow: cfg.TransferFrom, RequireTSIG: len(cfg.TSIGKeys) > 0}).
		WithRateLimit(cfg.RateLimit, cfg.RateLimitSlip)
	if len(cfg.TSIGKeys) > 0 {
		h = h.WithTSIG()
	}
	return &Server{cfg: cfg, source: src, handler: h}, nil
}

// Source returns the server's snapshot source.
func (s *Server) Source() *Source { return s.source }

// Run listens on Config.Listen (UDP and TCP) and serves until ctx ends; see
// Serve.
func (s *Server) Run(ctx context.Context) error {
	pc, ln, err := Listen(s.cfg.Listen)
	if err != nil {
		return err
	}
	return s.Serve(ctx, pc, ln)
}

// listenAttempts bounds the search for a port free for both UDP and TCP
// when Listen is asked for any port.
const listenAttempts = 20

// Listen opens the UDP and TCP listeners of a DNS server on addr (IP:port).
// With port 0 it picks one port that is free for both transports.
func Listen(addr string) (net.PacketConn, net.Listener, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %q: %w", addr, err)
	}
	attempts := 1
	if ap.Port() == 0 {
		attempts = listenAttempts
	}
	for i := 1; ; i++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if i == attempts {
			return nil, nil, fmt.Errorf("listen tcp %s: %w", pc.LocalAddr(), err)
		}
	}
}

// Serve answers queries on pc (UDP) and ln (TCP, several pipelined queries
// per connection) and keeps the snapshot current, until ctx ends; then it
// stops accepting queries, lets in-flight ones finish within
// Config.ShutdownTimeout and returns. It closes pc and ln. It blocks.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, ln net.Listener) error {
	var tsig map[string]string
	if len(s.cfg.TSIGKeys) > 0 {
		tsig = s.cfg.TSIGKeys
	}
	udp := &dns.Server{PacketConn: pc, Handler: s.handler, UDPSize: udpReadSize, TsigSecret: tsig}
	tcp := &dns.Server{Listener: ln, Handler: s.handler, MaxTCPQueries: s.cfg.MaxTCPQueries, TsigSecret: tsig,
		IdleTimeout: func() time.Duration { return s.cfg.TCPIdleTimeout }}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.source.Run(gctx) })
	g.Go(func() error { s.notifyLoop(gctx); return nil })
	for _, srv := range []*dns.Server{udp, tcp} {
		started, served := make(chan struct{}), make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		g.Go(func() error {
			defer close(served)
			if err := srv.ActivateAndServe(); err != nil && gctx.Err() == nil {
				return fmt.Errorf("serve DNS: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			select {
			case <-served:
				return nil // failed to start; the serving goroutine reports why
			case <-started:
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
			defer cancel()
			if err := srv.ShutdownContext(sctx); err != nil {
				return fmt.Errorf("shut down DNS listener: %w", err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Healthy returns nil while the server answers from a snapshot whose watch
// is alive, and the reason otherwise.
func (s *Server) Healthy() error {
	switch {
	case s.source.Snapshot() == nil:
		return errors.New("no snapshot loaded from etcd yet")
	case s.source.Stale():
		return fmt.Errorf("etcd watch silent for %v (bound %v): primary names answer SERVFAIL",
			s.source.Age().Round(time.Millisecond), s.cfg.StaleAfter)
	}
	return nil
}

// HealthHandler serves 200 "ok" while Healthy, else 503 with the reason.
func (s *Server) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.Healthy(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintf(w, "ok serial=%d\n", s.source.Snapshot().Serial())
	})
}
