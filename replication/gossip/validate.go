package gossip

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, c.validateIdentity()...)
	errs = append(errs, c.validateAddresses()...)
	errs = append(errs, c.validateKeyring()...)
	errs = append(errs,
		positive("probeInterval", c.ProbeInterval),
		positive("probeTimeout", c.ProbeTimeout),
		atLeast("indirectChecks", c.IndirectChecks, 3),
		atLeast("suspicionMult", c.SuspicionMult, 1),
		atLeast("suspicionMaxTimeoutMult", c.SuspicionMaxTimeoutMult, 1),
		positive("gossipInterval", c.GossipInterval),
		atLeast("gossipNodes", c.GossipNodes, 1),
		atLeast("retransmitMult", c.RetransmitMult, 1),
		positive("pushPullInterval", c.PushPullInterval),
		positive("tcpTimeout", c.TCPTimeout),
		notNegative("gossipToTheDeadTime", c.GossipToTheDeadTime),
		notNegative("deadNodeReclaimTime", c.DeadNodeReclaimTime),
		notNegative("reconnectInterval", c.ReconnectInterval),
		positive("forgetAfter", c.ForgetAfter),
	)
	if c.ProbeTimeout > 0 && c.ProbeInterval > 0 && c.ProbeTimeout >= c.ProbeInterval {
		errs = append(errs, fmt.Errorf("probeTimeout %v: must be shorter than probeInterval %v, which also bounds the indirect probes", c.ProbeTimeout, c.ProbeInterval))
	}
	return errors.Join(errs...)
}

func (c Config) validateIdentity() []error {
	var errs []error
	if msgs := validation.IsDNS1123Subdomain(c.Name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("name %q: %v", c.Name, msgs))
	}
	switch c.Role {
	case RoleHub:
	case RoleAgent:
		if c.Cluster == "" {
			errs = append(errs, errors.New("cluster: required for an agent"))
		}
	default:
		errs = append(errs, fmt.Errorf("role %q: must be %q or %q", c.Role, RoleHub, RoleAgent))
	}
	errs = append(errs, optionalLabel("cluster", c.Cluster), optionalLabel("region", c.Region))
	if c.Role == RoleHub || c.Role == RoleAgent {
		if _, err := (Meta{Role: c.Role, Cluster: c.Cluster, Region: c.Region, Payload: c.Payload, Leaving: true}).Encode(); err != nil {
			errs = append(errs, fmt.Errorf("payload: %w", err))
		}
	}
	return errs
}

func (c Config) validateAddresses() []error {
	var errs []error
	if net.ParseIP(c.BindAddr) == nil {
		errs = append(errs, fmt.Errorf("bindAddr %q: not an IP address", c.BindAddr))
	}
	errs = append(errs, port("bindPort", c.BindPort), port("advertisePort", c.AdvertisePort))
	if c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil {
		errs = append(errs, fmt.Errorf("advertiseAddr %q: not an IP address", c.AdvertiseAddr))
	}
	for i, peer := range c.Join {
		host, p, err := net.SplitHostPort(peer)
		n, perr := strconv.Atoi(p)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("join[%d] %q: not host:port", i, peer))
		}
	}
	return errs
}

func (c Config) validateKeyring() []error {
	var errs []error
	if len(c.Keyring) == 0 && !c.Insecure {
		errs = append(errs, errors.New("keyring: empty; gossip must be encrypted, or set insecure to run in the clear"))
	}
	if len(c.Keyring) > 0 && c.Insecure {
		errs = append(errs, errors.New("insecure: set together with a keyring; choose one"))
	}
	for i, k := range c.Keyring {
		if len(k) != KeySize {
			errs = append(errs, fmt.Errorf("keyring[%d]: %d bytes, want %d (AES-256)", i, len(k), KeySize))
		}
		for j := range i {
			if bytes.Equal(c.Keyring[j], k) {
				errs = append(errs, fmt.Errorf("keyring[%d]: same key as keyring[%d]", i, j))
			}
		}
	}
	return errs
}

func optionalLabel(field, s string) error {
	if s == "" {
		return nil
	}
	if msgs := validation.IsDNS1123Label(s); len(msgs) > 0 {
		return fmt.Errorf("%s %q: %v", field, s, msgs)
	}
	return nil
}

func port(field string, p int) error {
	if p < 0 || p > 65535 {
		return fmt.Errorf("%s %d: must be 0-65535", field, p)
	}
	return nil
}

func positive(field string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s %v: must be positive", field, d)
	}
	return nil
}

func notNegative(field string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s %v: must not be negative", field, d)
	}
	return nil
}

func atLeast(field string, n, min int) error {
	if n < min {
		return fmt.Errorf("%s %d: must be at least %d", field, n, min)
	}
	return nil
}
