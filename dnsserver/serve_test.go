package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// testServer is a running Server on loopback UDP and TCP (same port).
type testServer struct {
	srv  *Server
	addr string
	reg  *prometheus.Registry
	logs *syncBuffer // the server's log lines
}

// integrationConfig is a server configuration with short bounds under prefix.
func integrationConfig(prefix string) Config {
	cfg := fixtureConfig()
	cfg.Prefix = prefix
	cfg.StaleAfter = 600 * time.Millisecond
	cfg.ProgressInterval = 100 * time.Millisecond
	cfg.RequestTimeout = 300 * time.Millisecond
	cfg.RetryInterval = 100 * time.Millisecond
	cfg.ShutdownTimeout = 2 * time.Second
	// The tests ask far more than one client network's budget from
	// loopback; the limiter has tests of its own (ratelimit_test.go).
	cfg.RateLimit = 0
	return cfg
}

// startServer runs a Server until the test ends, reading etcd with its own client.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	return startServerVia(t, cfg, etcd.clientURL)
}

// startServerVia runs a Server whose etcd client dials endpoint.
func startServerVia(t *testing.T, cfg Config, endpoint string) *testServer {
	t.Helper()
	reg := prometheus.NewRegistry()
	srv, err := New(cfg, clientFor(t, endpoint), reg)
	if err != nil {
		t.Fatal(err)
	}
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := funcr.New(func(prefix, args string) { fmt.Fprintln(logs, prefix, args) }, funcr.Options{})
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), log))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return &testServer{srv: srv, addr: ln.Addr().String(), reg: reg, logs: logs}
}

// exchange sends m and returns the raw answer and its parse.
func exchange(addr string, tcp bool, m *dns.Msg) ([]byte, *dns.Msg, error) {
	q, err := m.Pack()
	if err != nil {
		return nil, nil, err
	}
	network := "udp"
	if tcp {
		network = "tcp"
	}
	conn, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return nil, nil, err
	}
	var raw []byte
	if tcp {
		if _, err := conn.Write(binary.BigEndian.AppendUint16(nil, uint16(len(q)))); err != nil {
			return nil, nil, err
		}
		if _, err := conn.Write(q); err != nil {
			return nil, nil, err
		}
		if raw, err = readTCP(conn); err != nil {
			return nil, nil, err
		}
	} else {
		if _, err := conn.Write(q); err != nil {
			return nil, nil, err
		}
		buf := make([]byte, 65535)
		n, err := conn.Read(buf)
		if err != nil {
			return nil, nil, err
		}
		raw = buf[:n]
	}
	resp := new(dns.Msg)
	return raw, resp, resp.Unpack(raw)
}

func readTCP(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

// ask queries name/qtype over UDP without EDNS.
func (s *testServer) ask(name string, qtype uint16) (*dns.Msg, error) {
	_, resp, err := exchange(s.addr, false, query{name: name, qtype: qtype}.msg())
	return resp, err
}

// serial asks for the SOA serial.
func (s *testServer) serial() (uint32, error) {
	resp, err := s.ask(z, dns.TypeSOA)
	if err != nil {
		return 0, err
	}
	if len(resp.Answer) != 1 {
		return 0, fmt.Errorf("SOA answer: %v", resp)
	}
	return resp.Answer[0].(*dns.SOA).Serial, nil
}

// wantA checks that name answers exactly addr (or rcode when addr is "").
func (s *testServer) wantA(name, addr string, rcode int) error {
	resp, err := s.ask(name, dns.TypeA)
	if err != nil {
		return err
	}
	if resp.Rcode != rcode {
		return fmt.Errorf("%s: rcode %s, want %s", name, dns.RcodeToString[resp.Rcode], dns.RcodeToString[rcode])
	}
	if addr == "" {
		return nil
	}
	if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != addr {
		return fmt.Errorf("%s: answer %v, want %s", name, resp.Answer, addr)
	}
	return nil
}

// gauge reads a gauge of the server's registry.
func (s *testServer) gauge(name string) (float64, error) {
	mfs, err := s.reg.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() == name && mf.GetType() == dto.MetricType_GAUGE {
			return mf.GetMetric()[0].GetGauge().GetValue(), nil
		}
	}
	return 0, errors.New("no gauge " + name)
}

// goldenAnswer is the answer section of a golden file.
func goldenAnswer(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return s[strings.Index(s, ";; answer\n"):]
}

// counter sums the counters called name whose labels include value.
func (s *testServer) counter(name, value string) float64 {
	mfs, err := s.reg.Gather()
	if err != nil {
		return -1
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
