package coord

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateNamesEveryBadField(t *testing.T) {
	cfg := Config{
		Endpoints:      []string{"etcd:2379", "http://10.1.2.3:2379", "https://etcd-0:2379", "http://[::1]:2379"},
		DialTimeout:    0,
		RequestTimeout: -time.Second,
		CertFile:       "client.pem",
		Prefix:         "fedstate",
		LeaseTTL:       1500 * time.Millisecond,
		RenewInterval:  0,
		LeaderTTL:      time.Second,
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, field := range []string{
		`endpoints[0] "etcd:2379"`,      // no scheme
		`endpoints[1] "http://10.1.2.3`, // plaintext, not loopback (and TLS files set)
		`endpoints[3] "http://[::1]`,    // plaintext although TLS files are set
		"dialTimeout", "requestTimeout", "certFile", "prefix", "leaseTTL", "renewInterval", "leaderTTL",
	} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
	if strings.Contains(err.Error(), "endpoints[2]") {
		t.Errorf("https endpoint reported:\n%v", err)
	}
}

func TestConfigValidateEmbedded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.EmbedDataDir = ""
	cfg.EmbedClientURL = "http://10.0.0.1:2379"
	cfg.EmbedPeerURL = "https://127.0.0.1:2380"
	err := cfg.Validate()
	for _, field := range []string{"embedDataDir", "embedClientURL", "embedPeerURL"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	cfg.Endpoints = []string{"http://127.0.0.1:2379"}
	if err := cfg.Validate(); err != nil {
		t.Errorf("embedded fields checked although endpoints are set: %v", err)
	}
}

func TestConfigValidateTimeoutsAgainstTTL(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LeaseTTL = 2 * time.Second
	cfg.RenewInterval = time.Second
	cfg.RequestTimeout = time.Second
	err := cfg.Validate()
	for _, field := range []string{"renewInterval", "requestTimeout"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func TestConfigPlaintextEndpoints(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		insecure bool
		ok       bool
	}{
		{name: "loopback IPv4", endpoint: "http://127.0.0.1:2379", ok: true},
		{name: "loopback IPv6", endpoint: "http://[::1]:2379", ok: true},
		{name: "localhost", endpoint: "http://localhost:2379", ok: true},
		{name: "remote", endpoint: "http://etcd.example:2379", ok: false},
		{name: "remote IP", endpoint: "http://192.0.2.7:2379", ok: false},
		{name: "remote, insecure allowed", endpoint: "http://etcd.example:2379", insecure: true, ok: true},
		{name: "remote over TLS", endpoint: "https://etcd.example:2379", ok: true},
		{name: "no port", endpoint: "https://etcd.example", ok: false},
		{name: "unix socket", endpoint: "unix:///run/etcd.sock", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Endpoints, cfg.Insecure = []string{tc.endpoint}, tc.insecure
			err := cfg.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "endpoints[0]") {
				t.Errorf("error does not name the endpoint: %v", err)
			}
		})
	}
}
