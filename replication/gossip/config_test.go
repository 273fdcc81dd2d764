package gossip

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	cfg := DefaultConfig("eu-1")
	cfg.Role, cfg.Cluster, cfg.Region = RoleAgent, "eu-1", "eu-west"
	cfg.Keyring = [][]byte{testKey(1), testKey(2)}
	cfg.Join = []string{"hub.fedstate-system.svc:7946"}
	return cfg
}

func TestDefaultConfigValid(t *testing.T) {
	for _, role := range []Role{RoleHub, RoleAgent} {
		cfg := validConfig()
		cfg.Role = role
		if err := cfg.Validate(); err != nil {
			t.Errorf("role %s: %v", role, err)
		}
	}
	cfg := DefaultConfig("hub-0")
	if cfg.IndirectChecks < 3 {
		t.Errorf("IndirectChecks %d: indirect probes must be on (>= 3)", cfg.IndirectChecks)
	}
	if got := cfg.suspicionTimeout(4); got != 6*time.Second {
		t.Errorf("suspicionTimeout(4) = %v, want 6s (3 s minimum, twice without confirmation)", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // every substring must appear
	}{
		{name: "valid", change: func(*Config) {}},
		{name: "insecure without keys", change: func(c *Config) { c.Keyring, c.Insecure = nil, true }},
		{name: "hub without cluster", change: func(c *Config) { c.Role, c.Cluster = RoleHub, "" }},
		{name: "no keyring", change: func(c *Config) { c.Keyring = nil }, want: []string{"keyring: empty", "set insecure"}},
		{name: "keys and insecure", change: func(c *Config) { c.Insecure = true }, want: []string{"insecure: set together with a keyring"}},
		{
			name:   "bad keys",
			change: func(c *Config) { c.Keyring = [][]byte{testKey(1), make([]byte, 16), testKey(1)} },
			want:   []string{"keyring[1]: 16 bytes", "keyring[2]: same key as keyring[0]"},
		},
		{
			name: "identity",
			change: func(c *Config) {
				c.Name, c.Role, c.Cluster, c.Region = "Bad Name", "primary", "EU_1", "eu west"
			},
			want: []string{`name "Bad Name"`, `role "primary"`, `cluster "EU_1"`, `region "eu west"`},
		},
		{name: "agent without cluster", change: func(c *Config) { c.Cluster = "" }, want: []string{"cluster: required for an agent"}},
		{
			name:   "payload too large",
			change: func(c *Config) { c.Payload = bytes.Repeat([]byte{1}, MaxMetaSize) },
			want:   []string{"payload:", "larger than 512 bytes"},
		},
		{
			name: "addresses",
			change: func(c *Config) {
				c.BindAddr, c.BindPort, c.AdvertiseAddr, c.AdvertisePort = "localhost", 70000, "hub", -1
				c.Join = []string{"10.0.0.1:7946", "10.0.0.2", ":7946", "h:0"}
			},
			want: []string{`bindAddr "localhost"`, "bindPort 70000", `advertiseAddr "hub"`, "advertisePort -1",
				`join[1] "10.0.0.2"`, `join[2] ":7946"`, `join[3] "h:0"`},
		},
		{
			name: "timings",
			change: func(c *Config) {
				c.ProbeInterval, c.ProbeTimeout = time.Second, 2*time.Second
				c.IndirectChecks, c.SuspicionMult, c.SuspicionMaxTimeoutMult = 1, 0, 0
				c.GossipInterval, c.GossipNodes, c.RetransmitMult = 0, 0, 0
				c.PushPullInterval, c.TCPTimeout, c.ForgetAfter = 0, 0, 0
				c.GossipToTheDeadTime, c.DeadNodeReclaimTime, c.ReconnectInterval = -1, -1, -1
			},
			want: []string{"probeTimeout 2s: must be shorter than probeInterval", "indirectChecks 1: must be at least 3",
				"suspicionMult 0", "suspicionMaxTimeoutMult 0", "gossipInterval 0s", "gossipNodes 0", "retransmitMult 0",
				"pushPullInterval 0s", "tcpTimeout 0s", "forgetAfter 0s", "gossipToTheDeadTime -1ns",
				"deadNodeReclaimTime -1ns", "reconnectInterval -1ns"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v\nmissing %q", err, w)
				}
			}
		})
	}
}

func TestNewRefusesInvalidConfig(t *testing.T) {
	cfg := validConfig()
	cfg.Keyring = nil
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "insecure") {
		t.Fatalf("New without keyring = %v, want an error naming insecure", err)
	}
}
