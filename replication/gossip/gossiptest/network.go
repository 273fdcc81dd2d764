package gossiptest

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/memberlist"
)

// Network is the fault table shared by the transports of a test's nodes:
// which node is at which address and which links are cut. Safe for
// concurrent use.
type Network struct {
	mu    sync.RWMutex
	addrs map[string]string // address -> node name
	cut   map[link]bool
	// dropped counts packets dropped and dials refused.
	dropped atomic.Uint64
}

// link is an unordered pair of node names.
type link struct{ a, b string }

func newLink(a, b string) link {
	if b < a {
		a, b = b, a
	}
	return link{a, b}
}

// NewNetwork returns a Network with every link up.
func NewNetwork() *Network {
	return &Network{addrs: make(map[string]string), cut: make(map[link]bool)}
}

// Wrapper returns a function for gossip.Config.WrapTransport that puts
// the node's transport on the Network under the node's name.
func (n *Network) Wrapper(name string) func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
	return func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
		return n.Wrap(name, inner)
	}
}

// Wrap returns a transport that carries inner's traffic for the named
// node through the Network. The node's address is learned when
// memberlist asks the transport for it (FinalAdvertiseAddr).
func (n *Network) Wrap(name string, inner memberlist.NodeAwareTransport) *Transport {
	t := &Transport{inner: inner, net: n, name: name, packets: make(chan *memberlist.Packet), done: make(chan struct{})}
	t.wg.Add(1)
	go t.forward()
	return t
}

// Cut drops all traffic between nodes a and b, both ways.
func (n *Network) Cut(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[newLink(a, b)] = true
}

// Isolate cuts node a from every other node registered on the Network.
func (n *Network) Isolate(a string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range n.addrs {
		if b != a {
			n.cut[newLink(a, b)] = true
		}
	}
}

// HealLink restores the link between a and b.
func (n *Network) HealLink(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.cut, newLink(a, b))
}

// Heal restores every link.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.cut)
}

// Dropped returns how many packets were dropped and dials refused so far.
func (n *Network) Dropped() uint64 { return n.dropped.Load() }

// Nodes returns the names of the registered nodes, sorted.
func (n *Network) Nodes() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var names []string
	for _, name := range n.addrs {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// register records that node name is at addr.
func (n *Network) register(name, addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addrs[addr] = name
}

// blocked reports whether traffic from node from to address to is cut,
// counting it as dropped if so. Unknown addresses (a test's raw socket)
// are never cut.
func (n *Network) blocked(from, toAddr string) bool {
	n.mu.RLock()
	to, ok := n.addrs[toAddr]
	cut := ok && n.cut[newLink(from, to)]
	n.mu.RUnlock()
	if cut {
		n.dropped.Add(1)
	}
	return cut
}

// blockedFrom reports whether traffic from address fromAddr to node to is
// cut, counting it as dropped if so.
func (n *Network) blockedFrom(fromAddr, to string) bool {
	n.mu.RLock()
	from, ok := n.addrs[fromAddr]
	cut := ok && n.cut[newLink(from, to)]
	n.mu.RUnlock()
	if cut {
		n.dropped.Add(1)
	}
	return cut
}
