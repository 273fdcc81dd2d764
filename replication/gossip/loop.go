package gossip

import (
	"math/rand/v2"
	"time"
)

// loop ticks the view (ending suspicions whose window passed, forgetting
// old members) every quarter ProbeInterval, and every ReconnectInterval
// starts a reconnect attempt. It returns when Shutdown closes p.stop.
func (p *Pool) loop() {
	defer p.wg.Done()
	tick := time.NewTicker(max(p.cfg.ProbeInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	var reconnect <-chan time.Time
	if p.cfg.ReconnectInterval > 0 {
		t := time.NewTicker(p.cfg.ReconnectInterval)
		defer t.Stop()
		reconnect = t.C
	}
	var dead []string
	for {
		select {
		case <-p.stop:
			return
		case now := <-tick.C:
			dead = p.view.tick(now)
		case <-reconnect:
			p.reconnect(dead)
		}
	}
}

// reconnect tries, in the background and one attempt at a time, to join
// one random dead member (memberlist stops gossiping to the dead after
// GossipToTheDeadTime, so two sides of a long partition would otherwise
// never merge again), or Config.Join when this node is alone.
func (p *Pool) reconnect(dead []string) {
	var peers []string
	switch {
	case p.ml.NumMembers() <= 1 && len(p.cfg.Join) > 0:
		peers = p.cfg.Join
	case len(dead) > 0:
		peers = []string{dead[rand.IntN(len(dead))]}
	default:
		return
	}
	if !p.reconnecting.CompareAndSwap(false, true) {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.reconnecting.Store(false)
		if n, err := p.ml.Join(peers); err != nil {
			p.log.V(1).Info("Reconnect failed", "peers", peers, "err", err.Error())
		} else {
			p.log.V(1).Info("Reconnected", "peers", peers, "answered", n)
		}
	}()
}
