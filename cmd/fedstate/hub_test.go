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
