package coord

import (
	"context"
	"fmt"
	"net/url"

	"go.etcd.io/etcd/server/v3/embed"
)

// embeddedName is the member name of the embedded single-node etcd.
const embeddedName = "fedstate"

// startEmbedded starts a single-node etcd on loopback in cfg.EmbedDataDir
// and waits until it serves or ctx is done.
func startEmbedded(ctx context.Context, cfg Config) (*embed.Etcd, error) {
	ec := embed.NewConfig()
	ec.Name = embeddedName
	ec.Dir = cfg.EmbedDataDir
	cu, err := url.Parse(cfg.EmbedClientURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd client URL: %w", err)
	}
	pu, err := url.Parse(cfg.EmbedPeerURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd peer URL: %w", err)
	}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	// Agents rewrite their reports every interval: keep ten minutes of
	// history, enough for a watcher to resume after a restart, and compact
	// the rest so the database does not grow without bound.
	ec.AutoCompactionMode = "periodic"
	ec.AutoCompactionRetention = "10m"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(cfg.Logger)
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.EmbedDataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s: %w", cfg.EmbedDataDir, err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready: %w", cfg.EmbedDataDir, ctx.Err())
	}
}

// stopEmbedded stops the embedded etcd, if any, and waits for it.
func (s *Store) stopEmbedded() {
	if s.embedded != nil {
		s.embedded.Close()
		s.embedded = nil
	}
}
