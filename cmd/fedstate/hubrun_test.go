package main

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/hub"
	"github.com/fedstate/fedstate/federation/membership"
)

// TestHubRunsFailover runs the hub as fedstate hub does, with the default
// embedded federation etcd (on free ports), against a test bed with one
// joined member: a new PrimaryReplica service is placed there by the
// FederatedStatefulSet controller and gets its first primary from the
// failover coordinator, committed with its DNS record in the embedded
// etcd.
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
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runHub(rctx, cfg, rc, io.Discard, 0) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("fedstate hub: %v", err)
		}
	})

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
