package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Gossip configures the hub replica's node in the federation's gossip
// pool (replication/gossip), which the agents join: an early,
// partition-aware signal of which member clusters' agents are alive,
// shown in the MemberClusters' AgentAlive condition. Timings are
// replication/gossip's defaults, tuned for WAN regions.
type Gossip struct {
	// Enabled makes the hub join the gossip pool.
	Enabled bool `json:"enabled"`
	// BindAddress is the IP:port the UDP and TCP listeners bind to; port
	// 0 picks a free one (tests).
	BindAddress string `json:"bindAddress"`
	// AdvertiseAddress is the IP:port the other nodes reach this replica
	// at (the pod IP behind the hub's gossip Service); empty advertises
	// the bound address, or a private address of the host when bound to
	// 0.0.0.0.
	AdvertiseAddress string `json:"advertiseAddress"`
	// Join lists host:port addresses of nodes already in the pool — the
	// other hub replicas (a headless Service) — joined at start and again
	// whenever this replica finds itself alone. None: the agents join
	// this replica.
	Join []string `json:"join"`
	// KeyringFile is the keyring of the pool (the gossip Secret mounted
	// as a file): one base64 AES-256 key per line, primary first.
	// Required unless Insecure.
	KeyringFile string `json:"keyringFile"`
	// Insecure runs the pool without encryption or authentication: any
	// host that reaches the port may join. Local test federations only.
	Insecure bool `json:"insecure"`
	// Region is the hub replica's region, announced in gossip; optional.
	Region string `json:"region"`
}

// DefaultGossip is the hub's default gossip configuration: off, since
// the pool needs a keyring the operator creates.
func DefaultGossip() Gossip {
	return Gossip{
		// Every interface, on memberlist's usual port: the agents reach
		// the hub through a Service in front of it.
		BindAddress: "0.0.0.0:7946",
	}
}

// Validate reports every bad field at once, each named by its path in the
// hub's configuration file. A disabled section is not checked.
func (g Gossip) Validate() error {
	if !g.Enabled {
		return nil
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("gossip.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, err := netip.ParseAddrPort(g.BindAddress); err != nil {
		bad("bindAddress", "want IP:port, got %q", g.BindAddress)
	}
	if g.AdvertiseAddress != "" {
		if ap, err := netip.ParseAddrPort(g.AdvertiseAddress); err != nil || ap.Addr().IsUnspecified() {
			bad("advertiseAddress", "want IP:port of this replica, got %q", g.AdvertiseAddress)
		}
	}
	for i, peer := range g.Join {
		host, p, err := net.SplitHostPort(peer)
		n, perr := strconv.Atoi(p)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			bad(fmt.Sprintf("join[%d]", i), "want host:port, got %q", peer)
		}
	}
	switch {
	case g.KeyringFile == "" && !g.Insecure:
		bad("keyringFile", "required: gossip carries which clusters are alive and accepts any joiner without a key (set gossip.insecure for a local test federation)")
	case g.KeyringFile != "" && g.Insecure:
		bad("insecure", "set together with gossip.keyringFile; choose one")
	}
	if g.Region != "" && !isLabel(g.Region) {
		bad("region", "not a DNS-1123 label: %q", g.Region)
	}
	return errors.Join(errs...)
}

// isLabel reports whether s is a DNS-1123 label.
func isLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// UnmarshalJSON rejects unknown fields and keeps the fields data leaves
// out.
func (g *Gossip) UnmarshalJSON(data []byte) error {
	var in struct {
		Enabled          *bool    `json:"enabled"`
		BindAddress      *string  `json:"bindAddress"`
		AdvertiseAddress *string  `json:"advertiseAddress"`
		Join             []string `json:"join"`
		KeyringFile      *string  `json:"keyringFile"`
		Insecure         *bool    `json:"insecure"`
		Region           *string  `json:"region"`
	}
	if err := decodeStrict(data, &in); err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	set(&g.Enabled, in.Enabled)
	set(&g.BindAddress, in.BindAddress)
	set(&g.AdvertiseAddress, in.AdvertiseAddress)
	if in.Join != nil {
		g.Join = in.Join
	}
	set(&g.KeyringFile, in.KeyringFile)
	set(&g.Insecure, in.Insecure)
	set(&g.Region, in.Region)
	return nil
}
