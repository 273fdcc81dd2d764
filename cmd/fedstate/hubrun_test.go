package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/gossip"
)

// TestHubRunsFailover runs the hub as fedstate hub does, with the default
// embedded federation etcd (on free ports) and gossip on, against a test
// bed with one joined member: the member's agent (its gossip node and etcd
// session, simulated) makes the member's AgentAlive condition True, and a
// new PrimaryReplica service is placed there by the FederatedStatefulSet
// controller and gets its first primary from the failover coordinator,
// committed with its DNS record in the embedded etcd.
func TestHubRunsFailover(t *testing.T) {
	ctx := t.Context()
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	bcfg := testbed.DefaultConfig()
	bcfg.Binaries, bcfg.StateDir = bins, t.TempDir()
	bcfg.Members = []testbed.MemberSpec{{Name: "eu-1", Region: "eu-west", Zone: "eu-west-a"}}
	bed, err := testbed.Start(ctx, bcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bed.Close() })
	rc, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		t.Fatal(err)
	}
	if err := testbed.InstallCRDs(ctx, rc, "../../config/crd/bases"); err != nil {
		t.Fatal(err)
	}
	scheme, err := hub.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	hubc, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	mrc, err := bed.RESTConfig("eu-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := membership.Join(ctx, hubc, mrc, membership.Options{Name: "eu-1", Region: "eu-west", Zone: "eu-west-a"}); err != nil {
		t.Fatal(err)
	}

	cfg := config.DefaultHub()
	cfg.MetricsAddress, cfg.HealthAddress, cfg.LeaderElection.Enabled = "", "", false
	e := &cfg.Failover.Etcd
	e.EmbedDataDir = t.TempDir()
	e.EmbedClientURL, e.EmbedPeerURL = "http://"+freeAddr(t), "http://"+freeAddr(t)
	cfg.Gossip.Enabled, cfg.Gossip.Insecure, cfg.Gossip.BindAddress = true, true, freeAddr(t)
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runHub(rctx, cfg, rc, io.Discard, 0) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("fedstate hub: %v", err)
		}
	})

	startAgent(t, cfg, "eu-1")
	waitAgentAlive(t, hubc, "eu-1")
	createService(t, hubc)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.EmbedClientURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	key := dnsserver.Key{Namespace: "default", Service: "db", Kind: dnsserver.KindPrimary}.EtcdKey(cfg.Failover.DNSPrefix)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := cli.Get(ctx, key)
		if err == nil && len(resp.Kvs) == 1 {
			if p, err := dnsserver.DecodePrimary(resp.Kvs[0].Value); err == nil && p.Epoch == 1 && p.Ordinal == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			var fss v1alpha1.FederatedStatefulSet
			_ = hubc.Get(ctx, client.ObjectKey{Namespace: "default", Name: "db"}, &fss)
			t.Fatalf("no DNS primary in epoch 1: %v %v; service status %+v", resp, err, fss.Status)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// startAgent plays the member's agent: a gossip node that joins the hub's
// and a session in the federation etcd, both ended with the test.
func startAgent(t *testing.T, cfg config.Hub, member string) {
	t.Helper()
	gc := gossip.DefaultConfig("agent-" + member)
	gc.Role, gc.Cluster, gc.BindAddr, gc.BindPort, gc.Insecure = gossip.RoleAgent, member, "127.0.0.1", 0, true
	pool, err := gossip.New(gc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Shutdown() })
	ccfg := hub.CoordConfig(cfg.Failover.Etcd)
	ccfg.Endpoints, ccfg.Logger = []string{cfg.Failover.Etcd.EmbedClientURL}, zap.NewNop()
	deadline := time.Now().Add(time.Minute)
	for { // the hub starts its gossip node and its etcd in the background
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, jerr := pool.Join(ctx, cfg.Gossip.BindAddress)
		var store *coord.Store
		if jerr == nil {
			store, jerr = coord.Connect(ctx, ccfg)
		}
		cancel()
		if jerr == nil {
			t.Cleanup(func() { _ = store.Close() })
			a, err := store.StartAgent(t.Context(), "agent-"+member, member)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(a.Abandon)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent of %s cannot reach the hub: %v", member, jerr)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitAgentAlive waits until the member's AgentAlive condition is True
// with the hub's gossip node answering the agent.
func waitAgentAlive(t *testing.T, hubc client.Client, member string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var mc v1alpha1.MemberCluster
		err := hubc.Get(t.Context(), client.ObjectKey{Name: member}, &mc)
		c := meta.FindStatusCondition(mc.Status.Conditions, v1alpha1.MemberAgentAlive)
		if err == nil && c != nil && c.Status == metav1.ConditionTrue && c.Reason == v1alpha1.ReasonSessionAlive &&
			strings.Contains(c.Message, "gossip probes") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("AgentAlive of %s: %+v, %v", member, c, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// createService creates a PrimaryReplica service of one replica.
func createService(t *testing.T, hubc client.Client) {
	t.Helper()
	fss := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 1,
			Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:17"}}}}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL}},
	}
	if err := hubc.Create(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
}
