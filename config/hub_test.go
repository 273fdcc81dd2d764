package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultHubValid(t *testing.T) {
	if err := DefaultHub().Validate(); err != nil {
		t.Fatalf("DefaultHub().Validate() = %v", err)
	}
}

func TestHubValidateReportsEveryField(t *testing.T) {
	h := DefaultHub()
	h.MetricsAddress = "localhost"
	h.LeaderElection.Namespace = ""
	h.LeaderElection.LeaseDuration = time.Second
	h.Members.Burst = 0
	h.Services.Workers = 0
	h.Services.DeletionTimeout = -time.Second
	h.Failover.DNSPrefix = "dns"
	h.Failover.Etcd.LeaseTTL = 0
	h.Drills.ReportDir = ""
	err := h.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad configuration")
	}
	for _, field := range []string{"metricsAddress", "leaderElection.namespace", "leaderElection.leaseDuration", "members.burst", "services.workers", "services.deletionTimeout", "failover.dnsPrefix", "failover.etcd.leaseTTL", "drills.reportDir"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
}

func TestLoadHub(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.yaml")
	file := `
metricsAddress: 127.0.0.1:9090
leaderElection:
  enabled: false
members:
  probeInterval: 2s
services:
  deletionTimeout: 45s
failover:
  stepTimeout: 1m
  etcd:
    endpoints: [https://etcd-0.example:2379, https://etcd-1.example:2379]
    caFile: /etc/fedstate/etcd-ca.pem
    leaseTTL: 6s
drills:
  reportDir: /var/lib/fedstate/drills
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := LoadHub(path)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultHub()
	want.MetricsAddress = "127.0.0.1:9090"
	want.LeaderElection.Enabled = false
	want.Members.ProbeInterval = 2 * time.Second
	want.Services.DeletionTimeout = 45 * time.Second
	want.Failover.StepTimeout = time.Minute
	want.Failover.Etcd.Endpoints = []string{"https://etcd-0.example:2379", "https://etcd-1.example:2379"}
	want.Failover.Etcd.CAFile = "/etc/fedstate/etcd-ca.pem"
	want.Failover.Etcd.LeaseTTL = 6 * time.Second
	want.Drills.ReportDir = "/var/lib/fedstate/drills"
	if !reflect.DeepEqual(h, want) {
		t.Errorf("LoadHub = %+v\nwant %+v", h, want)
	}

	for name, bad := range map[string]string{
		"unknown field":      "metricAddress: 127.0.0.1:1\n",
		"unknown nested":     "services:\n  worker: 3\n",
		"bad duration":       "leaderElection:\n  leaseDuration: fifteen\n",
		"not a mapping":      "- a\n- b\n",
		"wrong scalar type":  "services:\n  workers: many\n",
		"unknown failover":   "failover:\n  tick: 1s\n",
		"unknown etcd field": "failover:\n  etcd:\n    endpoint: http://x:1\n",
		"bad etcd duration":  "failover:\n  etcd:\n    leaseTTL: long\n",
		"unknown drills":     "drills:\n  dir: /tmp\n",
	} {
		var h Hub
		if err := ParseHub([]byte(bad), &h); err == nil {
			t.Errorf("%s: ParseHub(%q) accepted it", name, bad)
		}
	}
	if _, err := LoadHub(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("LoadHub of a missing file succeeded")
	}
}

func FuzzParseHub(f *testing.F) {
	f.Add([]byte("metricsAddress: 127.0.0.1:9090\nservices:\n  workers: 3\n"))
	f.Add([]byte("members: {probeInterval: 1s, probeTimeout: 500ms}"))
	f.Add([]byte("{}"))
	f.Add([]byte("failover:\n  etcd:\n    endpoints: [https://etcd-0:2379]\n    insecure: true\n  stepTimeout: 0s\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h := DefaultHub()
		if err := ParseHub(raw, &h); err != nil {
			return
		}
		_ = h.Validate() // must not panic
		// A file sets fields; applying it a second time changes nothing.
		again := h
		again.Failover.Etcd.Endpoints = slices.Clone(h.Failover.Etcd.Endpoints)
		if err := ParseHub(raw, &again); err != nil || !reflect.DeepEqual(again, h) {
			t.Fatalf("%q applied twice: %+v, %v; once: %+v", raw, again, err, h)
		}
	})
}
