package gossip

import (
	"math"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberlistConfig maps c onto memberlist's WAN defaults. New adds the
// transport, ports, logger, keyring and delegates.
func (c Config) memberlistConfig() *memberlist.Config {
	mc := memberlist.DefaultWANConfig()
	mc.Name = c.Name
	mc.BindAddr = c.BindAddr
	mc.AdvertiseAddr = c.AdvertiseAddr
	mc.ProbeInterval = c.ProbeInterval
	mc.ProbeTimeout = c.ProbeTimeout
	mc.IndirectChecks = c.IndirectChecks
	mc.SuspicionMult = c.SuspicionMult
	mc.SuspicionMaxTimeoutMult = c.SuspicionMaxTimeoutMult
	mc.GossipInterval = c.GossipInterval
	mc.GossipNodes = c.GossipNodes
	mc.RetransmitMult = c.RetransmitMult
	mc.PushPullInterval = c.PushPullInterval
	mc.TCPTimeout = c.TCPTimeout
	mc.GossipToTheDeadTime = c.GossipToTheDeadTime
	mc.DeadNodeReclaimTime = c.DeadNodeReclaimTime
	// GossipVerifyIncoming and GossipVerifyOutgoing stay true: with a
	// keyring, nothing is accepted or sent in the clear.
	return mc
}

// suspicionTimeout is memberlist's time from a member's first suspicion
// to its death without a refutation, in a pool of the given size: the
// minimum SuspicionMult * max(1, log10(members)) * ProbeInterval when no
// confirmations are expected (SuspicionMult <= 2), else up to
// SuspicionMaxTimeoutMult times it.
func (c Config) suspicionTimeout(members int) time.Duration {
	scale := math.Max(1, math.Log10(math.Max(1, float64(members))))
	timeout := time.Duration(float64(c.SuspicionMult) * scale * float64(c.ProbeInterval))
	if c.SuspicionMult > 2 {
		timeout *= time.Duration(c.SuspicionMaxTimeoutMult)
	}
	return timeout
}

// suspicionWindow is how long a member stays Suspect in the view without
// news: memberlist's longest suspicion plus a probe interval of slack.
// A member still not dead after it refuted the suspicion.
func (c Config) suspicionWindow(members int) time.Duration {
	return c.suspicionTimeout(members) + c.ProbeInterval
}
