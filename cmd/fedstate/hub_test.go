package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fedstate/fedstate/config"
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

func TestHubGossipFlags(t *testing.T) {
	parse := func(args ...string) (config.Hub, error) {
		t.Helper()
		cmd := newHubCommand()
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		o := &hubOptions{}
		g := &o.cfg.Gossip
		g.Enabled, _ = cmd.Flags().GetBool("gossip")
		g.BindAddress, _ = cmd.Flags().GetString("gossip-listen")
		g.AdvertiseAddress, _ = cmd.Flags().GetString("gossip-advertise")
		g.Join, _ = cmd.Flags().GetStringSlice("gossip-join")
		g.KeyringFile, _ = cmd.Flags().GetString("gossip-keyring")
		g.Insecure, _ = cmd.Flags().GetBool("gossip-insecure")
		return o.config(cmd.Flags())
	}
	cfg, err := parse()
	if err != nil || cfg.Gossip.Enabled {
		t.Errorf("no flags: gossip %+v, %v; want off", cfg.Gossip, err)
	}
	cfg, err = parse("--gossip-keyring", "/k", "--gossip-listen", "127.0.0.1:7000", "--gossip-join", "hub-1:7946,hub-2:7946",
		"--gossip-advertise", "10.0.0.1:7000")
	want := config.Gossip{Enabled: true, BindAddress: "127.0.0.1:7000", AdvertiseAddress: "10.0.0.1:7000",
		Join: []string{"hub-1:7946", "hub-2:7946"}, KeyringFile: "/k"}
	if err != nil || !reflect.DeepEqual(cfg.Gossip, want) {
		t.Errorf("gossip %+v, %v; want %+v", cfg.Gossip, err, want)
	}
	if cfg, err = parse("--gossip-insecure", "--gossip=false"); err != nil || cfg.Gossip.Enabled {
		t.Errorf("--gossip=false: gossip %+v, %v; want off", cfg.Gossip, err)
	}
	for _, args := range [][]string{{"--gossip"}, {"--gossip-listen", "127.0.0.1:0"}} {
		if _, err := parse(args...); err == nil || !strings.Contains(err.Error(), "gossip.keyringFile") {
			t.Errorf("%v without a keyring: %v, want an error naming gossip.keyringFile", args, err)
		}
	}
}
