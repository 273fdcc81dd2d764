package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestGossipValidate(t *testing.T) {
	on := func(change func(*Gossip)) Gossip {
		g := DefaultGossip()
		g.Enabled, g.KeyringFile = true, "/etc/fedstate/gossip/keyring"
		change(&g)
		return g
	}
	tests := []struct {
		name string
		cfg  Gossip
		want []string // substrings of the error, one per bad field; none: valid
	}{
		{name: "default is off and valid", cfg: DefaultGossip()},
		{name: "off is not checked", cfg: Gossip{BindAddress: "nowhere"}},
		{name: "keyring", cfg: on(func(*Gossip) {})},
		{name: "insecure on a free port", cfg: on(func(g *Gossip) { g.KeyringFile, g.Insecure, g.BindAddress = "", true, "127.0.0.1:0" })},
		{name: "joins and advertises", cfg: on(func(g *Gossip) {
			g.Join, g.AdvertiseAddress, g.Region = []string{"fedstate-hub-gossip.fedstate-system:7946", "10.0.0.7:7946"}, "10.0.0.8:7946", "eu-west"
		})},
		{
			name: "no keyring",
			cfg:  on(func(g *Gossip) { g.KeyringFile = "" }),
			want: []string{"gossip.keyringFile: required"},
		},
		{
			name: "keyring and insecure",
			cfg:  on(func(g *Gossip) { g.Insecure = true }),
			want: []string{"gossip.insecure: set together with gossip.keyringFile"},
		},
		{
			name: "every address bad",
			cfg: on(func(g *Gossip) {
				g.BindAddress, g.AdvertiseAddress, g.Join, g.Region = "0.0.0.0", "0.0.0.0:7946", []string{"hub", "hub:0"}, "EU"
			}),
			want: []string{"gossip.bindAddress:", "gossip.advertiseAddress:", "gossip.join[0]:", "gossip.join[1]:", "gossip.region:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%v", got, len(tt.want), err)
			}
		})
	}
}

func TestParseHubGossip(t *testing.T) {
	h := DefaultHub()
	raw := "gossip:\n  enabled: true\n  bindAddress: 127.0.0.1:0\n  join: [hub-1:7946]\n  keyringFile: /k\n"
	if err := ParseHub([]byte(raw), &h); err != nil {
		t.Fatal(err)
	}
	want := DefaultHub()
	want.Gossip = Gossip{Enabled: true, BindAddress: "127.0.0.1:0", Join: []string{"hub-1:7946"}, KeyringFile: "/k"}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("ParseHub = %+v\nwant %+v", h.Gossip, want.Gossip)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
	if err := ParseHub([]byte("gossip:\n  keyring: /k\n"), &h); err == nil {
		t.Error("ParseHub accepted an unknown gossip field")
	}
	h = DefaultHub()
	if err := ParseHub([]byte("gossip:\n  enabled: true\n"), &h); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "gossip.keyringFile:") {
		t.Errorf("Validate() of gossip without a keyring = %v", err)
	}
}
