package hub

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/coordinator"
	"github.com/fedstate/fedstate/federation/drill"
	"github.com/fedstate/fedstate/replication/coord"
)

// CoordConfig converts the hub's etcd configuration into
// replication/coord's, which Connect validates in full.
func CoordConfig(e config.Etcd) coord.Config {
	c := coord.DefaultConfig()
	c.Endpoints = append([]string(nil), e.Endpoints...)
	c.CertFile, c.KeyFile, c.CAFile, c.Insecure = e.CertFile, e.KeyFile, e.CAFile, e.Insecure
	c.Prefix = e.Prefix
	c.DialTimeout, c.RequestTimeout = e.DialTimeout, e.RequestTimeout
	c.LeaseTTL, c.RenewInterval, c.LeaderTTL = e.LeaseTTL, e.RenewInterval, e.LeaderTTL
	c.EmbedDataDir, c.EmbedClientURL, c.EmbedPeerURL = e.EmbedDataDir, e.EmbedClientURL, e.EmbedPeerURL
	return c
}

// SetupFailover adds the failover coordinator and DNS publishing to mgr,
// coordinating in store: the federation etcd, connected by the caller
// (coord.Connect with CoordConfig), who closes it once the manager has
// stopped. id names the replica in etcd (ReplicaID); suspicions, when not
// nil, lets the coordinator warn that gossip declares a primary's cluster
// dead (the AgentMonitor of SetupAgents). The FailoverDrill controller,
// which asks the coordinator for switchovers, comes with it.
func SetupFailover(mgr ctrl.Manager, cfg config.Hub, store *coord.Store, id string, suspicions coordinator.Suspicions) (*coordinator.Coordinator, error) {
	f := cfg.Failover
	wcfg := dnsserver.DefaultWriterConfig()
	wcfg.Prefix = f.DNSPrefix
	w, err := dnsserver.NewWriter(wcfg)
	if err != nil {
		return nil, fmt.Errorf("DNS writer: %w", err)
	}
	ccfg := coordinator.DefaultConfig()
	ccfg.ID = id
	ccfg.DNSPrefix, ccfg.TickInterval, ccfg.StepTimeout, ccfg.SaveInterval = f.DNSPrefix, f.TickInterval, f.StepTimeout, f.SaveInterval
	c := &coordinator.Coordinator{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Store:      store,
		DNS:        w,
		Recorder:   mgr.GetEventRecorder(EventSource),
		Config:     ccfg,
		Suspicions: suspicions,
	}
	if err := c.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	dcfg := drill.DefaultConfig()
	dcfg.ReportDir = cfg.Drills.ReportDir
	dr := &drill.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder(EventSource),
		Config:    dcfg,
	}
	if err := dr.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return c, nil
}
