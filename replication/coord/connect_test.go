package coord

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConnectEmbedded starts the local default (an embedded etcd in a data
// dir), writes through it, stops it with Close and starts it again on the
// same data: the write survived, and the embedded etcd is reachable by a
// second Store as an external endpoint while it runs.
func TestConnectEmbedded(t *testing.T) {
	t.Parallel() // waits for TTLs and servers; runs beside the others
	dir := t.TempDir()
	cfg := embeddedConfig(dir)
	cfg.Prefix = testRoot(t)
	st, err := Connect(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ep := st.Endpoints()
	if len(ep) != 1 || !strings.HasPrefix(ep[0], "http://127.0.0.1:") || strings.HasSuffix(ep[0], ":0") {
		t.Fatalf("Endpoints = %v, want the embedded etcd's loopback URL", ep)
	}
	if _, err := st.Client().Put(t.Context(), cfg.Prefix+"k", "v"); err != nil {
		t.Fatal(err)
	}
	ext := testConfig(t, ep[0])
	other, err := Connect(t.Context(), ext)
	if err != nil {
		t.Fatalf("external connection to the embedded etcd: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(ep[0], "http://"), time.Second); err == nil {
		t.Fatalf("embedded etcd still listens on %s after Close", ep[0])
	}

	st, err = Connect(t.Context(), cfg)
	if err != nil {
		t.Fatalf("restart on the same data dir: %v", err)
	}
	defer st.Close()
	resp, err := st.Client().Get(t.Context(), cfg.Prefix+"k")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("after restart: %v, want k=v", resp.Kvs)
	}
}

// TestConnectExternal connects to the package's etcd by URL, the way an
// agent or a hub connects to the federation etcd.
func TestConnectExternal(t *testing.T) {
	st := newStore(t)
	if got := st.Endpoints(); len(got) != 1 || got[0] != etcdURL {
		t.Fatalf("Endpoints = %v, want [%s]", got, etcdURL)
	}
	if _, err := st.Client().Put(t.Context(), testRoot(t)+"k", "v"); err != nil {
		t.Fatal(err)
	}
}

// TestConnectUnreachable fails within the dial timeout instead of
// returning a Store that cannot reach etcd.
func TestConnectUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig(t, "http://"+addr)
	cfg.DialTimeout = 300 * time.Millisecond
	start := time.Now()
	st, err := Connect(t.Context(), cfg)
	if err == nil {
		st.Close()
		t.Fatal("Connect to a closed port succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Connect took %v to fail", d)
	}
}

// TestConnectRejectsBadConfig does not dial with an invalid Config.
func TestConnectRejectsBadConfig(t *testing.T) {
	cfg := testConfig(t, "http://192.0.2.1:2379")
	_, err := Connect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "insecure") {
		t.Fatalf("Connect = %v, want the plaintext endpoint refused", err)
	}
}
