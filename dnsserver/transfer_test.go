package dnsserver

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestZoneRecordsGolden pins the whole fixture zone as zone-file text, the
// content of every AXFR.
func TestZoneRecordsGolden(t *testing.T) {
	var b strings.Builder
	for _, rr := range fixtureSnapshot(t).Records() {
		fmt.Fprintln(&b, rr.String())
	}
	golden(t, "zone", b.String())
}

const tsigName, tsigSecret = "xfr.fedstate.local.", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="

// transferConfig allows transfers from loopback, signed with the test key.
func transferConfig(prefix string) Config {
	cfg := integrationConfig(prefix)
	cfg.TransferFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.TSIGKeys = map[string]string{tsigName: tsigSecret}
	return cfg
}

// axfr transfers the zone from addr; signed when sign is true.
func axfr(addr string, qtype uint16, serial uint32, sign bool) ([]dns.RR, error) {
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr(z, serial, "ns."+z, "hostmaster."+z)
	} else {
		m.SetAxfr(z)
	}
	tr := &dns.Transfer{DialTimeout: time.Second, ReadTimeout: 2 * time.Second}
	if sign {
		m.SetTsig(tsigName, dns.HmacSHA256, 300, time.Now().Unix())
		tr.TsigSecret = map[string]string{tsigName: tsigSecret}
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, err
	}
	var out []dns.RR
	for env := range ch {
		if env.Error != nil {
			return out, env.Error
		}
		out = append(out, env.RR...)
	}
	return out, nil
}

func TestZoneTransferAndNotify(t *testing.T) {
	const prefix = "/it-xfr/"
	secondary, notified := fakeSecondary(t)
	cfg := transferConfig(prefix)
	cfg.NotifyTargets = []netip.AddrPort{secondary}
	cfg.IXFRJournal = 1 // the differences of the latest change only
	s := startServer(t, cfg)
	w, rev := publish(t, prefix)
	waitNotify := func(what string, after uint32) uint32 {
		t.Helper()
		var got uint32
		poll(t, 5*time.Second, what, func() error {
			select {
			case got = <-notified:
				if !SerialLess(after, got) {
					return fmt.Errorf("NOTIFY serial %d not after %d", got, after)
				}
				return nil
			default:
				return fmt.Errorf("no NOTIFY yet")
			}
		})
		return got
	}
	published := waitNotify("NOTIFY for the published records", SerialOf(rev-1))

	rrs, err := axfr(s.addr, dns.TypeAXFR, 0, true)
	if err != nil {
		t.Fatalf("AXFR: %v", err)
	}
	snap := s.srv.Source().Snapshot()
	want := append(snap.Records(), snap.soa(false))
	if got, wantText := rrText(rrs), rrText(want); got != wantText {
		t.Fatalf("AXFR differs from the snapshot:\n%s\nwant\n%s", got, wantText)
	}
	if len(rrs) < 70 || rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
		t.Fatalf("AXFR of %d records, not framed by SOA", len(rrs))
	}
	if _, err := axfr(s.addr, dns.TypeAXFR, 0, false); err == nil || !strings.Contains(err.Error(), "rcode: 5") {
		t.Errorf("unsigned AXFR: %v, want REFUSED", err)
	}
	current, err := axfr(s.addr, dns.TypeIXFR, snap.Serial(), true)
	if err != nil || len(current) != 1 || current[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("IXFR from the current serial: %v, %v; want the lone SOA", current, err)
	}

	// A change triggers a NOTIFY with a newer serial, and an IXFR from the
	// serial before it sends just the difference.
	commit := func(ops Ops, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(t.Context(), etcd.client(t), ops); err != nil {
			t.Fatal(err)
		}
	}
	commit(w.DeleteReplica("prod", "db", 4))
	first := waitNotify("NOTIFY after a change", published)
	diff, err := axfr(s.addr, dns.TypeIXFR, published, true)
	if err != nil {
		t.Fatalf("IXFR from %d: %v", published, err)
	}
	wantDiff := fmt.Sprintf(`%[1]s. 5 IN SOA ns.%[1]s. hostmaster.%[1]s. %[2]d 60 10 3600 5
%[1]s. 5 IN SOA ns.%[1]s. hostmaster.%[1]s. %[3]d 60 10 3600 5
db-4.db.prod.svc.%[1]s. 5 IN A 127.12.0.4
db-4.eu-1.db.prod.svc.%[1]s. 5 IN A 127.12.0.4
%[1]s. 5 IN SOA ns.%[1]s. hostmaster.%[1]s. %[2]d 60 10 3600 5
%[1]s. 5 IN SOA ns.%[1]s. hostmaster.%[1]s. %[2]d 60 10 3600 5
`, strings.TrimSuffix(z, "."), first, published)
	if got := strings.Join(strings.Fields(rrText(diff)), " "); got != strings.Join(strings.Fields(wantDiff), " ") {
		t.Errorf("IXFR from %d:\n%s\nwant\n%s", published, rrText(diff), wantDiff)
	}

	// After a second change the journal (one change) no longer reaches
	// back to the published serial: that IXFR falls back to the zone.
	commit(w.PutReplica("prod", "db", 4, Replica{Cluster: "ap-1", Region: "ap", Role: RoleAsyncReplica, Ready: true, Addresses: addrs("127.14.0.4")}))
	second := waitNotify("NOTIFY after the second change", first)
	added, err := axfr(s.addr, dns.TypeIXFR, first, true)
	types := map[uint16]int{}
	for _, rr := range added {
		types[rr.Header().Rrtype]++
	}
	// Added: the replica's name and alias, its address in the service
	// name, its SRV target; nothing deleted.
	if err != nil || len(added) != 8 || types[dns.TypeA] != 3 || types[dns.TypeSRV] != 1 ||
		added[1].(*dns.SOA).Serial != first || added[2].Header().Rrtype != dns.TypeSOA || added[len(added)-1].(*dns.SOA).Serial != second {
		t.Errorf("IXFR from %d: %v\n%s\nwant 4 SOA, 3 A and 1 SRV records added", first, err, rrText(added))
	}
	full, err := axfr(s.addr, dns.TypeIXFR, published, true)
	if err != nil || len(full) != len(s.srv.Source().Snapshot().Records())+1 {
		t.Errorf("IXFR from %d, beyond the journal: %d records, %v; want the whole zone", published, len(full), err)
	}
	for content, want := range map[string]float64{transferZone: 2, transferDifferences: 2, transferCurrent: 1} {
		if got := s.counter("fedstate_dns_transfers_total", content); got != want {
			t.Errorf("transfers with content %q: %v, want %v", content, got, want)
		}
	}
}

func TestZoneTransferRefusedOutsideAllowedNetworks(t *testing.T) {
	const prefix = "/it-xfr-acl/"
	cfg := transferConfig(prefix)
	cfg.TransferFrom = []netip.Prefix{netip.MustParsePrefix("::1/128")}
	s := startServer(t, cfg)
	publish(t, prefix)
	poll(t, 5*time.Second, "records served", func() error { return s.wantA("db-1.db.prod.svc."+z, "127.13.0.2", dns.RcodeSuccess) })
	if _, err := axfr(s.addr, dns.TypeAXFR, 0, true); err == nil || !strings.Contains(err.Error(), "rcode: 5") {
		t.Errorf("AXFR from 127.0.0.1: %v, want REFUSED", err)
	}
}

func rrText(rrs []dns.RR) string {
	var b strings.Builder
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeTSIG {
			continue
		}
		fmt.Fprintln(&b, rr.String())
	}
	return b.String()
}

// fakeSecondary acknowledges NOTIFY messages on a loopback UDP port and
// reports their serials.
func fakeSecondary(t *testing.T) (netip.AddrPort, <-chan uint32) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	serials := make(chan uint32, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil || m.Opcode != dns.OpcodeNotify || len(m.Answer) != 1 {
				continue
			}
			serials <- m.Answer[0].(*dns.SOA).Serial
			ack := new(dns.Msg)
			ack.SetReply(m)
			if b, err := ack.Pack(); err == nil {
				_, _ = pc.WriteTo(b, from)
			}
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String()), serials
}
