package coord

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Store is a connection to the federation etcd and, in the local default,
// the embedded etcd itself. Its methods are safe for concurrent use; each
// etcd request they make is bounded by Config.RequestTimeout.
type Store struct {
	cfg       Config
	cli       *clientv3.Client
	embedded  *embed.Etcd
	endpoints []string
}

// Connect validates cfg and connects to the federation etcd. Without
// endpoints it first starts an embedded single-node etcd in
// cfg.EmbedDataDir, waiting for it until ctx is done. Connect returns only
// after one read succeeded, within cfg.DialTimeout. Close the Store to
// disconnect (and stop the embedded etcd).
func Connect(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("coord config: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	s := &Store{cfg: cfg, endpoints: append([]string(nil), cfg.Endpoints...)}
	if len(cfg.Endpoints) == 0 {
		e, err := startEmbedded(ctx, cfg)
		if err != nil {
			return nil, err
		}
		s.embedded = e
		s.endpoints = []string{"http://" + e.Clients[0].Addr().String()}
	}
	if err := s.dial(ctx); err != nil {
		s.stopEmbedded()
		return nil, err
	}
	return s, nil
}

// dial creates the client and proves the connection with one read.
func (s *Store) dial(ctx context.Context) error {
	tlsCfg, err := s.cfg.tlsConfig(s.endpoints)
	if err != nil {
		return err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   s.endpoints,
		DialTimeout: s.cfg.DialTimeout,
		TLS:         tlsCfg,
		Logger:      s.cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("etcd client for %s: %w", strings.Join(s.endpoints, ","), err)
	}
	pctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	if _, err := cli.Get(pctx, s.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return fmt.Errorf("reach etcd at %s: %w", strings.Join(s.endpoints, ","), err)
	}
	s.cli = cli
	return nil
}

// tlsConfig returns the client TLS configuration: nil for plaintext
// endpoints, else the configured client certificate and CA (system roots
// without a CA file).
func (c Config) tlsConfig(endpoints []string) (*tls.Config, error) {
	secure := false
	for _, ep := range endpoints {
		secure = secure || strings.HasPrefix(ep, "https://")
	}
	if !secure {
		return nil, nil
	}
	info := transport.TLSInfo{CertFile: c.CertFile, KeyFile: c.KeyFile, TrustedCAFile: c.CAFile}
	t, err := info.ClientConfig() // reloads the key pair on each handshake
	if err != nil {
		return nil, fmt.Errorf("etcd client TLS: %w", err)
	}
	if t.MinVersion == 0 {
		t.MinVersion = tls.VersionTLS12 // what TLSInfo sets when a certificate is given
	}
	return t, nil
}

// Client returns the etcd client, for operations of other packages on the
// same connection (for example dnsserver.Writer.Commit). Do not close it.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Endpoints returns the client URLs the Store is connected to; with an
// embedded etcd, the URL it actually listens on.
func (s *Store) Endpoints() []string { return append([]string(nil), s.endpoints...) }

// Prefix returns the prefix of the coordination keys.
func (s *Store) Prefix() string { return s.cfg.Prefix }

// Close disconnects and stops the embedded etcd, if any. Leases that were
// not released expire by themselves after their TTL.
func (s *Store) Close() error {
	err := s.cli.Close()
	if errors.Is(err, context.Canceled) {
		err = nil // the client reports its own cancellation
	}
	s.stopEmbedded()
	if err != nil {
		return fmt.Errorf("close etcd client: %w", err)
	}
	return nil
}

// requestCtx bounds one etcd request.
func (s *Store) requestCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.RequestTimeout)
}

// key returns the etcd key of k under the configured prefix.
func (s *Store) key(k Key) string { return k.EtcdKey(s.cfg.Prefix) }
