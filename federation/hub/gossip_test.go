package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/replication/gossip"
)

func TestReplicaID(t *testing.T) {
	a, b := ReplicaID(), ReplicaID()
	if a == b {
		t.Errorf("two ReplicaIDs are both %q", a)
	}
	for _, id := range []string{a, b} {
		if msgs := validation.IsDNS1123Subdomain(id); len(msgs) > 0 {
			t.Errorf("ReplicaID() = %q: %v", id, msgs)
		}
	}
}

func TestGossipConfig(t *testing.T) {
	keyring := filepath.Join(t.TempDir(), "keyring")
	key := make([]byte, gossip.KeySize)
	if err := os.WriteFile(keyring, gossip.FormatKeyring([][]byte{key}), 0o600); err != nil {
		t.Fatal(err)
	}
	g := config.DefaultGossip()
	g.Enabled, g.KeyringFile, g.AdvertiseAddress, g.Join, g.Region = true, keyring, "10.0.0.7:7000", []string{"hub-1:7946"}, "eu-west"
	c, err := GossipConfig(g, "hub-abcde")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "hub-abcde" || c.Role != gossip.RoleHub || c.BindAddr != "0.0.0.0" || c.BindPort != gossip.DefaultPort ||
		c.AdvertiseAddr != "10.0.0.7" || c.AdvertisePort != 7000 || len(c.Join) != 1 || c.Region != "eu-west" ||
		len(c.Keyring) != 1 || c.Insecure {
		t.Errorf("GossipConfig = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}

	g.KeyringFile = filepath.Join(t.TempDir(), "missing")
	if _, err := GossipConfig(g, "hub-abcde"); err == nil || !strings.Contains(err.Error(), "keyring") {
		t.Errorf("GossipConfig with a missing keyring file: %v", err)
	}
}
