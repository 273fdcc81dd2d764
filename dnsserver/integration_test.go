package dnsserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// publish commits the fixture zone under prefix through the Writer and
// returns the commit's revision. It first clears the prefix, so that a
// test can run more than once (-count) on the package's etcd.
func publish(t *testing.T, prefix string) (*Writer, int64) {
	t.Helper()
	if _, err := etcd.client(t).Delete(t.Context(), prefix, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	wcfg := DefaultWriterConfig()
	wcfg.Prefix = prefix
	w, err := NewWriter(wcfg)
	if err != nil {
		t.Fatal(err)
	}
	ops := fixtureOps(t, w)
	resp, err := etcd.client(t).Txn(t.Context()).If(ops.If...).Then(ops.Then...).Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("publish: %v (succeeded %v)", err, resp != nil && resp.Succeeded)
	}
	return w, resp.Header.Revision
}

func TestThreeServersAgree(t *testing.T) {
	const prefix = "/it-agree/"
	cfg := integrationConfig(prefix)
	servers := []*testServer{startServer(t, cfg), startServer(t, cfg), startServer(t, cfg)}
	w, rev := publish(t, prefix)

	// Every server reaches at least the commit's serial, then the same one.
	poll(t, 5*time.Second, "same serial on three servers", func() error {
		var serials []uint32
		for _, s := range servers {
			serial, err := s.serial()
			if err != nil {
				return err
			}
			if SerialLess(serial, SerialOf(rev)) {
				return fmt.Errorf("serial %d before commit revision %d", serial, rev)
			}
			serials = append(serials, serial)
		}
		if serials[0] != serials[1] || serials[1] != serials[2] {
			return fmt.Errorf("serials %v", serials)
		}
		return nil
	})
	// Byte-identical answers; retried as a whole if a serial moved meanwhile.
	queries := []query{
		{name: "_pg._tcp.db.prod.svc." + z, qtype: dns.TypeSRV, edns: 1232},
		{name: "db.prod.svc." + z, qtype: dns.TypeA},
		{name: "nope.prod.svc." + z, qtype: dns.TypeA},
		{name: "_http._tcp.big.prod.svc." + z, qtype: dns.TypeSRV, tcp: true},
		{name: "primary.db.prod.svc." + z, qtype: dns.TypeTXT},
	}
	poll(t, 5*time.Second, "byte-identical answers", func() error {
		for _, q := range queries {
			var first []byte
			for i, s := range servers {
				raw, _, err := exchange(s.addr, q.tcp, q.msg())
				if err != nil {
					return err
				}
				if i == 0 {
					first = raw
				} else if !bytes.Equal(first, raw) {
					return fmt.Errorf("%s %s: server %d differs from server 0", q.name, dns.TypeToString[q.qtype], i)
				}
			}
		}
		return nil
	})
	// What etcd fed equals what the pure handler tests pinned.
	_, srv, err := exchange(servers[1].addr, false, queries[0].msg())
	if err != nil {
		t.Fatal(err)
	}
	text := zoneText(srv, 0)
	if got, want := text[strings.Index(text, ";; answer\n"):], goldenAnswer(t, "srv-role-and-locality"); got != want {
		t.Errorf("SRV from etcd differs from golden:\n%s\nwant\n%s", got, want)
	}

	// A primary flip (epoch 7 -> 8, replica 1 promoted, replica 0 fenced)
	// commits in one guarded transaction and shows on all three servers.
	flip, err := w.SetPrimary("prod", "db", &Primary{Ordinal: 0, Epoch: 7}, Primary{Ordinal: 1, Epoch: 8})
	if err != nil {
		t.Fatal(err)
	}
	demote, err := w.PutReplica("prod", "db", 0, Replica{Cluster: "eu-1", Region: "eu", Role: RoleFenced, Ready: true, Addresses: addrs("127.12.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	cli := etcd.client(t)
	start := time.Now()
	if err := w.Commit(t.Context(), cli, flip.Add(demote)); err != nil {
		t.Fatalf("flip: %v", err)
	}
	for i, s := range servers {
		poll(t, 5*time.Second, fmt.Sprintf("server %d sees the new primary", i), func() error {
			if err := s.wantA("primary.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess); err != nil {
				return err
			}
			resp, err := s.ask("primary.db.prod.svc."+z, dns.TypeTXT)
			if err != nil {
				return err
			}
			if len(resp.Answer) != 1 || strings.Join(resp.Answer[0].(*dns.TXT).Txt, " ") != "epoch=8 ordinal=1" {
				return fmt.Errorf("TXT %v", resp.Answer)
			}
			return nil
		})
		t.Logf("server %d answers the new primary %v after the commit", i, time.Since(start).Round(time.Millisecond))
	}
	// The old primary is fenced: out of the service-wide answer.
	resp, err := servers[2].ask("db.prod.svc."+z, dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range resp.Answer {
		if rr.(*dns.A).A.String() == "127.12.0.2" {
			t.Errorf("fenced old primary still in %v", resp.Answer)
		}
	}
	// Replaying the same flip fails its guard and writes nothing.
	if err := w.Commit(t.Context(), cli, flip); !errors.Is(err, ErrConflict) {
		t.Fatalf("replayed flip: %v, want ErrConflict", err)
	}

	// Deleting a service removes all its names from all three servers.
	del, err := w.DeleteService("prod", "mid")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context(), cli, del); err != nil {
		t.Fatal(err)
	}
	for i, s := range servers {
		poll(t, 5*time.Second, fmt.Sprintf("server %d forgets prod/mid", i), func() error {
			for _, name := range []string{"mid.prod.svc." + z, "mid-3.mid.prod.svc." + z, "_http._tcp.mid.prod.svc." + z} {
				if err := s.wantA(name, "", dns.RcodeNameError); err != nil {
					return err
				}
			}
			return s.wantA("db-2.db.prod.svc."+z, "127.14.0.2", dns.RcodeSuccess)
		})
	}
}

func TestTCPPipeliningAndMalformedPackets(t *testing.T) {
	const prefix = "/it-tcp/"
	s := startServer(t, integrationConfig(prefix))
	publish(t, prefix)
	poll(t, 5*time.Second, "records served", func() error { return s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess) })

	// Three queries in one write on one connection; three answers in order.
	conn, err := net.DialTimeout("tcp", s.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	names := []string{"_http._tcp.big.prod.svc." + z, "db-2.db.prod.svc." + z, "nope.prod.svc." + z}
	var batch []byte
	for i, name := range names {
		m := query{name: name, qtype: dns.TypeSRV}.msg()
		if i > 0 {
			m.Question[0].Qtype = dns.TypeA
		}
		m.Id = uint16(100 + i)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		batch = append(binary.BigEndian.AppendUint16(batch, uint16(len(b))), b...)
	}
	if _, err := conn.Write(batch); err != nil {
		t.Fatal(err)
	}
	wantCounts := []int{40, 1, 0}
	for i := range names {
		raw, err := readTCP(conn)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		resp := new(dns.Msg)
		if err := resp.Unpack(raw); err != nil {
			t.Fatal(err)
		}
		if resp.Id != uint16(100+i) || resp.Truncated || len(resp.Answer) != wantCounts[i] {
			t.Errorf("answer %d: id %d tc %v %d records; want id %d, %d records", i, resp.Id, resp.Truncated, len(resp.Answer), 100+i, wantCounts[i])
		}
	}

	// The same SRV over UDP is truncated.
	_, resp, err := exchange(s.addr, false, query{name: names[0], qtype: dns.TypeSRV}.msg())
	if err != nil || !resp.Truncated {
		t.Fatalf("UDP answer: tc=%v err=%v", resp != nil && resp.Truncated, err)
	}

	// A header that promises a question it does not carry: FORMERR, same ID.
	uconn, err := net.Dial("udp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer uconn.Close()
	if err := uconn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := uconn.Write([]byte{0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', 'b'}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := uconn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n < 12 || buf[0] != 0xbe || buf[1] != 0xef || buf[3]&0x0f != dns.RcodeFormatError {
		t.Fatalf("malformed query answered % x", buf[:n])
	}
	// The server still answers.
	if err := s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess); err != nil {
		t.Fatal(err)
	}
}

func TestWatchLossAndRecovery(t *testing.T) {
	const prefix = "/it-loss/"
	s := startServer(t, integrationConfig(prefix))
	w, _ := publish(t, prefix)
	primary := "primary.db.prod.svc." + z
	poll(t, 5*time.Second, "primary served", func() error { return s.wantA(primary, "127.12.0.2", dns.RcodeSuccess) })

	lost := time.Now()
	etcd.stop()
	t.Logf("etcd stopped in %v", time.Since(lost).Round(time.Millisecond))
	t.Cleanup(func() {
		if etcd.e == nil {
			if err := etcd.start(); err != nil {
				t.Errorf("restart etcd: %v", err)
			}
		}
	})
	poll(t, 5*time.Second, "SERVFAIL for the primary once the bound passes", func() error {
		return s.wantA(primary, "", dns.RcodeServerFailure)
	})
	if err := s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess); err != nil {
		t.Errorf("non-primary names must keep answering: %v", err)
	}
	t.Logf("primary answers SERVFAIL %v after etcd stopped (bound %v)", time.Since(lost).Round(time.Millisecond), integrationConfig(prefix).StaleAfter)
	// The source turns stale first, then sets its metric and logs: poll.
	poll(t, 5*time.Second, "the lost watch in metrics and log", func() error {
		if v, err := s.gauge("fedstate_dns_watch_stale"); err != nil || v != 1 {
			return fmt.Errorf("fedstate_dns_watch_stale = %v, %v; want 1", v, err)
		}
		if v, err := s.gauge("fedstate_dns_watch_lag_seconds"); err != nil || v < integrationConfig(prefix).StaleAfter.Seconds() {
			return fmt.Errorf("fedstate_dns_watch_lag_seconds = %v, %v; want at least the bound", v, err)
		}
		if !strings.Contains(s.logs.String(), "Lost the etcd watch; answering SERVFAIL for primary names") {
			return fmt.Errorf("no log line about the lost watch:\n%s", s.logs)
		}
		return nil
	})
	if err := s.srv.Healthy(); err == nil {
		t.Error("healthy while the watch is lost")
	}

	restart := time.Now()
	if err := etcd.start(); err != nil {
		t.Fatalf("restart etcd: %v", err)
	}
	t.Logf("etcd restarted in %v", time.Since(restart).Round(time.Millisecond))
	flip, err := w.SetPrimary("prod", "db", &Primary{Ordinal: 0, Epoch: 7}, Primary{Ordinal: 2, Epoch: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := w.Commit(ctx, etcd.client(t), flip); err != nil {
		t.Fatalf("flip after restart: %v", err)
	}
	poll(t, 10*time.Second, "recovered with the new primary", func() error {
		return s.wantA(primary, "127.14.0.2", dns.RcodeSuccess)
	})
	t.Logf("new primary answered %v after the restart", time.Since(restart).Round(time.Millisecond))
	poll(t, 5*time.Second, "the recovery in metrics and log", func() error {
		if v, err := s.gauge("fedstate_dns_watch_stale"); err != nil || v != 0 {
			return fmt.Errorf("fedstate_dns_watch_stale = %v, %v; want 0", v, err)
		}
		if !strings.Contains(s.logs.String(), "Recovered the etcd watch; answering primary names again") {
			return fmt.Errorf("no log line about the recovery:\n%s", s.logs)
		}
		return nil
	})
	if err := s.srv.Healthy(); err != nil {
		t.Errorf("not healthy after recovery: %v", err)
	}
}

// TestWatchPartition cuts the server's path to etcd without closing it: the
// server must notice by the bound alone, never name the old primary after
// it, and catch up with a flip made during the partition once healed.
func TestWatchPartition(t *testing.T) {
	const prefix = "/it-partition/"
	cfg := integrationConfig(prefix)
	p := startProxy(t, strings.TrimPrefix(etcd.clientURL, "http://"))
	s := startServerVia(t, cfg, "http://"+p.addr())
	w, _ := publish(t, prefix)
	primary := "primary.db.prod.svc." + z
	poll(t, 5*time.Second, "primary served", func() error { return s.wantA(primary, "127.12.0.2", dns.RcodeSuccess) })

	cut := time.Now()
	p.partition()
	flip, err := w.SetPrimary("prod", "db", &Primary{Ordinal: 0, Epoch: 7}, Primary{Ordinal: 1, Epoch: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context(), etcd.client(t), flip); err != nil {
		t.Fatal(err)
	}
	poll(t, cfg.StaleAfter+2*time.Second, "SERVFAIL for the primary", func() error {
		return s.wantA(primary, "", dns.RcodeServerFailure)
	})
	noticed := time.Since(cut)
	t.Logf("partition noticed after %v (bound %v)", noticed.Round(time.Millisecond), cfg.StaleAfter)
	if noticed < cfg.StaleAfter {
		t.Errorf("stale after %v, before the bound %v", noticed, cfg.StaleAfter)
	}
	if err := s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess); err != nil {
		t.Errorf("non-primary names must keep answering: %v", err)
	}
	if err := s.srv.Healthy(); err == nil {
		t.Error("healthy during the partition")
	}

	healed := time.Now()
	p.heal()
	poll(t, 10*time.Second, "the flip made during the partition", func() error {
		return s.wantA(primary, "127.13.0.2", dns.RcodeSuccess)
	})
	t.Logf("new primary answered %v after the partition healed", time.Since(healed).Round(time.Millisecond))
	if v, err := s.gauge("fedstate_dns_watch_stale"); err != nil || v != 0 {
		t.Errorf("fedstate_dns_watch_stale = %v, %v; want 0", v, err)
	}
}

// TestIdleWatchStaysFresh checks that progress notifications alone keep an
// idle watch alive: no writes for several bounds, never stale, whether the
// records were written before the server started (its watch then starts at
// etcd's current revision) or after.
func TestIdleWatchStaysFresh(t *testing.T) {
	for _, tc := range []struct {
		name         string
		publishFirst bool
	}{
		{name: "records before start", publishFirst: true},
		{name: "records after start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := "/it-idle-" + strings.ReplaceAll(tc.name, " ", "-") + "/"
			cfg := integrationConfig(prefix)
			if tc.publishFirst {
				publish(t, prefix)
			}
			s := startServer(t, cfg)
			if !tc.publishFirst {
				publish(t, prefix)
			}
			poll(t, 5*time.Second, "records served", func() error { return s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess) })
			deadline := time.Now().Add(3 * cfg.StaleAfter)
			tick := time.NewTicker(cfg.ProgressInterval / 2)
			defer tick.Stop()
			for time.Now().Before(deadline) {
				<-tick.C
				if err := s.srv.Healthy(); err != nil {
					t.Fatalf("idle server went stale: %v", err)
				}
			}
		})
	}
}

// TestWatchReconnectStaysFresh drops the server's connections to etcd
// without a partition: the etcd client reconnects and resumes the watch by
// itself, after the last revision it saw, where an idle etcd sends no
// progress notifications. The server must notice the silence and restart
// the watch before the bound, never going stale.
func TestWatchReconnectStaysFresh(t *testing.T) {
	const prefix = "/it-reconnect/"
	cfg := integrationConfig(prefix)
	p := startProxy(t, strings.TrimPrefix(etcd.clientURL, "http://"))
	publish(t, prefix)
	s := startServerVia(t, cfg, "http://"+p.addr())
	poll(t, 5*time.Second, "records served", func() error { return s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess) })
	poll(t, 5*time.Second, "progress heard", func() error {
		if age := s.srv.Source().Age(); age == 0 || age > cfg.ProgressInterval*2 {
			return fmt.Errorf("watch age %v", age)
		}
		return nil
	})
	p.heal() // closes every connection; new ones pass
	deadline := time.Now().Add(4 * cfg.StaleAfter)
	tick := time.NewTicker(cfg.ProgressInterval / 2)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		<-tick.C
		if err := s.srv.Healthy(); err != nil {
			t.Fatalf("stale after the client reconnected: %v", err)
		}
	}
}
