package faultnet

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// Proxy is a loopback TCP proxy with fault injection. Its methods are safe
// for concurrent use and return without blocking on the network.
type Proxy struct {
	ln     net.Listener
	target string

	mu          sync.Mutex
	partitioned bool
	closed      bool
	links       map[*link]struct{}
	wg          sync.WaitGroup
}

// link is one proxied connection. A silenced link forwards nothing: its
// bytes are read and dropped in both directions until it is closed.
type link struct {
	client, upstream net.Conn // upstream is nil for a link accepted during a partition
	silenced         bool
}

// Listen starts a proxy on a free loopback port that forwards to target
// (host:port). Close it when done.
func Listen(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultnet: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the proxy's address (host:port) for clients to dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns "http://" + Addr(), the form etcd clients take.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Partition silences every connection, present and future, in both
// directions, without closing any: clients and server see a path that
// drops everything. It lasts until Heal.
func (p *Proxy) Partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partitioned = true
	for l := range p.links {
		l.silenced = true
	}
}

// Heal ends a partition. Connections silenced by it are closed (their
// streams lost data, like a connection that timed out), so clients redial;
// new connections are forwarded again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partitioned = false
	for l := range p.links {
		if l.silenced {
			l.close()
			delete(p.links, l)
		}
	}
}

// Reset closes every current connection at once, as a crashed peer would;
// new connections are forwarded (or silenced during a partition).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.close()
		delete(p.links, l)
	}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Reset()
	p.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("faultnet: close: %w", err)
	}
	return nil
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		l := &link{client: c}
		p.mu.Lock()
		l.silenced = p.partitioned
		p.mu.Unlock()
		if !l.silenced {
			if l.upstream, err = net.Dial("tcp", p.target); err != nil {
				c.Close() // the target is down: refuse like it would
				continue
			}
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(l, l.client, l.upstream)
		go p.pipe(l, l.upstream, l.client)
	}
}

// pipe copies src to dst while the link is not silenced and drops the
// bytes while it is. When src ends on a forwarding link it closes the
// link; on a silenced link the end is not passed on either (Heal closes
// it).
func (p *Proxy) pipe(l *link, src, dst net.Conn) {
	defer p.wg.Done()
	if src == nil {
		return // no upstream: the client side's pipe drops everything
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		silenced := l.silenced
		p.mu.Unlock()
		if n > 0 && !silenced && dst != nil {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err == nil {
			continue
		}
		p.mu.Lock()
		if !l.silenced {
			l.close()
			delete(p.links, l)
		}
		p.mu.Unlock()
		return
	}
}

// close closes both sides of the link.
func (l *link) close() {
	l.client.Close()
	if l.upstream != nil {
		l.upstream.Close()
	}
}
