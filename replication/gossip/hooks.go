package gossip

import (
	"bytes"
	"time"

	"github.com/hashicorp/memberlist"
)

// hooks are the pool's memberlist delegates. memberlist calls the
// EventDelegate methods with its node lock held, and the others from its
// packet and probe goroutines: every method here copies what it needs
// and returns without blocking.
type hooks struct {
	p *Pool
}

var (
	_ memberlist.Delegate      = hooks{}
	_ memberlist.EventDelegate = hooks{}
	_ memberlist.PingDelegate  = hooks{}
)

// NodeMeta returns the local node's encoded Meta, never longer than
// MaxMetaSize (checked by Config.Validate and UpdatePayload).
func (h hooks) NodeMeta(limit int) []byte {
	b := *h.p.metaBytes.Load()
	if len(b) > limit {
		return nil
	}
	return bytes.Clone(b)
}

// NotifyMsg ignores user messages: the pool sends none.
func (hooks) NotifyMsg([]byte) {}

// GetBroadcasts returns nothing: the pool sends no user messages.
func (hooks) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState returns nothing: all the pool shares is node metadata.
func (hooks) LocalState(join bool) []byte { return nil }

// MergeRemoteState ignores the (empty) remote state.
func (hooks) MergeRemoteState(buf []byte, join bool) {}

// NotifyJoin records a node alive for the first time or again.
func (h hooks) NotifyJoin(n *memberlist.Node) {
	h.p.view.join(info(n), n.Name == h.p.cfg.Name, time.Now())
}

// NotifyLeave records a node declared dead or gone.
func (h hooks) NotifyLeave(n *memberlist.Node) {
	h.p.view.leave(n.Name, time.Now())
}

// NotifyUpdate records a node's new metadata.
func (h hooks) NotifyUpdate(n *memberlist.Node) {
	h.p.view.update(info(n), time.Now())
}

// AckPayload adds nothing to acks.
func (hooks) AckPayload() []byte { return nil }

// NotifyPingComplete records a direct probe's ack and its round trip.
func (h hooks) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	h.p.view.directAck(other.Name, time.Now())
	h.p.metrics.rtt(rtt)
}

// info copies the fields the view needs out of memberlist's node.
func info(n *memberlist.Node) nodeInfo {
	return nodeInfo{name: n.Name, addr: n.Address(), meta: bytes.Clone(n.Meta)}
}
