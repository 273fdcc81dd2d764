package gossip

// Members returns this node's view of every member, itself included,
// sorted by name: a snapshot that shares nothing with the pool. It does
// not block.
func (p *Pool) Members() []Member { return p.view.snapshot() }

// ClusterState returns the state of a member cluster in this node's view:
// Alive if any of its agents is alive, else Suspect if any is suspect,
// else Dead if any is dead, else Left if any left, else Unknown. It does
// not block.
func (p *Pool) ClusterState(cluster string) State { return p.view.clusterState(cluster) }

// Subscribe returns a Subscription to the transitions this node sees
// from now on, buffering up to buffer of them (at least 1). To start from
// a consistent picture, subscribe first, then read Members. After
// Shutdown the Subscription comes closed. It does not block, and neither
// does delivery (see Subscription).
func (p *Pool) Subscribe(buffer int) *Subscription {
	s := &Subscription{ch: make(chan Transition, max(buffer, 1)), unsub: p.view.unsubscribe}
	if !p.view.subscribe(s) {
		s.Close()
	}
	return s
}

// HealthScore returns this node's memberlist health score (Lifeguard's
// local awareness): 0 is healthy; it grows while this node's probes miss
// the acks and nacks it expects, that is while this node itself is slow
// or cut off, and memberlist then probes more slowly.
func (p *Pool) HealthScore() int {
	if ml := p.mlReady.Load(); ml != nil {
		return ml.GetHealthScore()
	}
	return 0
}
