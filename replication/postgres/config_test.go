package postgres

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	cfg := DefaultConfig()
	cfg.Name = "db-3"
	cfg.DataDir = "/var/lib/postgresql/data"
	cfg.SocketDir = "/run/postgresql"
	cfg.Listen = netip.MustParseAddr("127.12.0.5")
	return cfg
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		errs   []string
	}{
		{name: "valid", change: func(*Config) {}},
		{name: "password allows other networks", change: func(c *Config) {
			c.ReplicationPassword = "x"
			c.ReplicationNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}},
		{name: "every bad field at once", change: func(c *Config) {
			c.Name = "DB_3"
			c.DataDir = "relative"
			c.Listen = netip.Addr{}
			c.Port = 0
			c.ReplicationUser = "postgres"
			c.MaxWALSenders = 1
			c.PromoteTimeout = 1500 * time.Millisecond
			c.Settings = map[string]string{"wal_level": "minimal"}
		}, errs: []string{"name", "dataDir", "listen", "port", "replicationUser", "maxWALSenders", "promoteTimeout", "wal_level"}},
		{name: "trust from a non-loopback network", change: func(c *Config) {
			c.ReplicationNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, errs: []string{"only allowed from loopback"}},
		{name: "socket directory with a comma", change: func(c *Config) {
			c.SocketDir = "/run/a,b"
		}, errs: []string{"commas"}},
		{name: "socket path too long", change: func(c *Config) {
			c.SocketDir = "/" + strings.Repeat("s", 100)
		}, errs: []string{"longer than 107"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if len(tt.errs) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want errors")
			}
			for _, e := range tt.errs {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("Validate() = %v; want it to mention %q", err, e)
				}
			}
			var joined interface{ Unwrap() []error }
			if errors.As(err, &joined) && len(joined.Unwrap()) < len(tt.errs) {
				t.Errorf("Validate() reported %d errors, want at least %d", len(joined.Unwrap()), len(tt.errs))
			}
		})
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New(Config{}) succeeded")
	}
}

func TestSettingsFiles(t *testing.T) {
	cfg := validConfig()
	cfg.Settings = map[string]string{"shared_buffers": "16MB", "work_mem": "4MB"}
	conf := serverSettings(cfg)
	for _, line := range []string{"wal_level = 'replica'\n", "hot_standby = 'on'\n", "max_wal_senders = '10'\n",
		"wal_keep_size = '256MB'\n", "max_slot_wal_keep_size = '4096MB'\n", "unix_socket_permissions = '0700'\n",
		"shared_buffers = '16MB'\nwork_mem = '4MB'\n"} {
		if !strings.Contains(conf, line) {
			t.Errorf("settings lack %q:\n%s", line, conf)
		}
	}
	settings, err := parseAutoConf(conf)
	if err != nil || settings["wal_log_hints"] != "on" {
		t.Errorf("settings file does not parse back: %v, %v", settings, err)
	}
	trust := hbaRules(cfg)
	for _, line := range []string{"local\tall\tall\t\ttrust\n", "host\treplication\treplicator\t127.0.0.0/8\ttrust\n",
		"host\tpostgres\treplicator\t::1/128\ttrust\n"} {
		if !strings.Contains(trust, line) {
			t.Errorf("pg_hba.conf lacks %q:\n%s", line, trust)
		}
	}
	cfg.ReplicationPassword = "x"
	if scram := hbaRules(cfg); strings.Contains(scram, "127.0.0.0/8\ttrust") || !strings.Contains(scram, "127.0.0.0/8\tscram-sha-256") {
		t.Errorf("pg_hba.conf with a password:\n%s", scram)
	}
	if strings.Contains(hbaRules(cfg), "host\tall\tall") {
		t.Errorf("pg_hba.conf lets clients in over TCP without ClientNetworks:\n%s", hbaRules(cfg))
	}
	cfg.ClientNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	if rules := hbaRules(cfg); !strings.Contains(rules, "host\tall\tall\t10.0.0.0/8\tscram-sha-256\n") {
		t.Errorf("pg_hba.conf with client networks:\n%s", rules)
	}
	cfg.ClientAuth = "trust"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "clientNetworks[0]") {
		t.Errorf("trusted clients from 10.0.0.0/8: %v, want clientNetworks[0] refused", err)
	}
}
