package dnsserver

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy is a loopback TCP proxy that can black-hole a connection: during a
// partition the clients' connections stay open but nothing passes, the way
// a lost network path looks to a gRPC client (no reset, just silence).
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	held   []net.Conn // client sides, closed on heal so clients reconnect
	ups    []net.Conn // upstream sides, closed on partition
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.heal()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.held = append(p.held, c)
		cut := p.cut
		p.mu.Unlock()
		if cut {
			continue // accepted, never answered
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.ups = append(p.ups, up)
		p.mu.Unlock()
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies src to dst; when it ends outside a partition it closes both.
func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src) // ends when either side closes
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		dst.Close()
		src.Close()
	}
}

// partition silences every connection, present and future.
func (p *proxy) partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, up := range p.ups {
		up.Close()
	}
	p.ups = nil
}

// heal ends the partition; held connections are closed so clients redial.
func (p *proxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
}
