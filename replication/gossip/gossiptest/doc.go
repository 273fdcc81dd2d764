// Package gossiptest injects network faults into a gossip pool for tests:
// a Network whose transports drop the traffic of cut links, as a lost
// network path would (silence: no error, no reset).
//
// Wrap every node's transport on the same Network, then cut and heal
// links by node name:
//
//	netw := gossiptest.NewNetwork()
//	cfg.WrapTransport = netw.Wrapper("hub")
//	...
//	netw.Cut("hub", "eu-1") // hub and eu-1 stop hearing each other
//	netw.Isolate("eu-1")    // eu-1 hears nobody, nobody hears it
//	netw.Heal()             // every link restored
//
// Packets (UDP) are dropped on both the sending and the receiving side;
// stream connections (TCP) are refused on the dialing side only, since
// the listener cannot tell which node dialled it: every node of the
// Network must use a wrapped transport. A dial over a cut link blocks
// until its timeout, as an unanswered SYN does, and then fails with a
// timeout error. Connections open before a cut finish normally.
package gossiptest
