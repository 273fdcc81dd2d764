package gossiptest

import (
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Transport is a memberlist.NodeAwareTransport that filters another
// through a Network. Its methods are safe for concurrent use, as
// memberlist requires.
type Transport struct {
	inner   memberlist.NodeAwareTransport
	net     *Network
	name    string
	packets chan *memberlist.Packet
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

var _ memberlist.NodeAwareTransport = (*Transport)(nil)

// FinalAdvertiseAddr asks the inner transport and registers the answer as
// this node's address on the Network.
func (t *Transport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	addr, p, err := t.inner.FinalAdvertiseAddr(ip, port)
	if err == nil {
		t.net.register(t.name, net.JoinHostPort(addr.String(), strconv.Itoa(p)))
	}
	return addr, p, err
}

// WriteTo sends a packet unless the link to addr is cut; a dropped packet
// reports success, as a packet lost on the way would.
func (t *Transport) WriteTo(b []byte, addr string) (time.Time, error) {
	if t.net.blocked(t.name, addr) {
		return time.Now(), nil
	}
	return t.inner.WriteTo(b, addr)
}

// WriteToAddress is WriteTo for a named address.
func (t *Transport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	if t.net.blocked(t.name, addr.Addr) {
		return time.Now(), nil
	}
	return t.inner.WriteToAddress(b, addr)
}

// PacketCh returns the packets that arrived over links that are not cut.
func (t *Transport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// forward copies the inner transport's packets to PacketCh, dropping
// those from cut links, until Shutdown.
func (t *Transport) forward() {
	defer t.wg.Done()
	in := t.inner.PacketCh()
	for {
		select {
		case <-t.done:
			return
		case p := <-in:
			if p.From != nil && t.net.blockedFrom(p.From.String(), t.name) {
				continue
			}
			select {
			case t.packets <- p:
			case <-t.done:
				return
			}
		}
	}
}

// DialTimeout dials addr unless the link is cut; over a cut link it
// waits for the timeout (or Shutdown) and fails as an unanswered dial.
func (t *Transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.net.blocked(t.name, addr) {
		return nil, t.silence("dial", addr, timeout)
	}
	return t.inner.DialTimeout(addr, timeout)
}

// DialAddressTimeout is DialTimeout for a named address.
func (t *Transport) DialAddressTimeout(addr memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.net.blocked(t.name, addr.Addr) {
		return nil, t.silence("dial", addr.Addr, timeout)
	}
	return t.inner.DialAddressTimeout(addr, timeout)
}

// StreamCh returns the inner transport's incoming connections: they are
// filtered at the dialing side.
func (t *Transport) StreamCh() <-chan net.Conn { return t.inner.StreamCh() }

// Shutdown stops forwarding, releases blocked dials and shuts the inner
// transport down. Safe to call more than once.
func (t *Transport) Shutdown() error {
	var err error
	t.once.Do(func() {
		close(t.done)
		t.wg.Wait()
		err = t.inner.Shutdown()
	})
	return err
}

// silence waits as an unanswered dial does and returns its error.
func (t *Transport) silence(op, addr string, timeout time.Duration) error {
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-t.done:
		}
	}
	return &net.OpError{Op: op, Net: "tcp", Addr: stringAddr(addr), Err: timeoutError{}}
}

// stringAddr is a net.Addr from a host:port string.
type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

// timeoutError is the error of a dial nobody answered.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (link cut by gossiptest)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
