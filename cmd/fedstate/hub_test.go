package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHubConfigErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(file, []byte("services:\n  workers: 0\nmembers:\n  probeTimeout: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newHubCommand()
	cmd.SetArgs([]string{"--config", file, "--metrics-bind-address", "nowhere"})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	if err == nil {
		t.Fatal("fedstate hub started with a bad configuration")
	}
	for _, field := range []string{"services.workers", "members.probeTimeout", "metricsAddress"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func TestHubFlagsOverrideFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(file, []byte("services:\n  workers: 3\n  deletionTimeout: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &hubOptions{}
	cmd := newHubCommand()
	if err := cmd.ParseFlags([]string{"--config", file, "--deletion-timeout", "2m"}); err != nil {
		t.Fatal(err)
	}
	o.file, _ = cmd.Flags().GetString("config")
	o.cfg.Services.DeletionTimeout, _ = cmd.Flags().GetDuration("deletion-timeout")
	cfg, err := o.config(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Services.Workers != 3 || cfg.Services.DeletionTimeout != 2*time.Minute {
		t.Errorf("workers %d deletionTimeout %s; want 3 from the file and 2m from the flag", cfg.Services.Workers, cfg.Services.DeletionTimeout)
	}
}

func TestHubFailoverFlags(t *testing.T) {
	o := &hubOptions{}
	cmd := newHubCommand()
	args := []string{"--etcd-endpoints", "https://etcd-0:2379,https://etcd-1:2379", "--etcd-ca", "ca.pem",
		"--etcd-cert", "hub.pem", "--etcd-key", "hub-key.pem", "--dns-prefix", "/dns/"}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	fo := &o.cfg.Failover
	fo.Etcd.Endpoints, _ = cmd.Flags().GetStringSlice("etcd-endpoints")
	fo.Etcd.CAFile, _ = cmd.Flags().GetString("etcd-ca")
	fo.Etcd.CertFile, _ = cmd.Flags().GetString("etcd-cert")
	fo.Etcd.KeyFile, _ = cmd.Flags().GetString("etcd-key")
	fo.DNSPrefix, _ = cmd.Flags().GetString("dns-prefix")
	cfg, err := o.config(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Failover.Etcd
	if !cfg.Failover.Enabled || len(e.Endpoints) != 2 || e.CAFile != "ca.pem" || e.CertFile != "hub.pem" || e.KeyFile != "hub-key.pem" ||
		cfg.Failover.DNSPrefix != "/dns/" {
		t.Errorf("failover configuration %+v", cfg.Failover)
	}
}
