package dnsserver

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/go-logr/logr"
	"github.com/miekg/dns"
)

// notifyAttempts is how often a NOTIFY is sent to a silent secondary
// before giving up until the next change (RFC 1996 section 3.6 retries).
const notifyAttempts = 3

// notifyLoop sends a NOTIFY to every configured secondary after each
// change of the records, until ctx ends.
func (s *Server) notifyLoop(ctx context.Context) {
	if len(s.cfg.NotifyTargets) == 0 {
		return
	}
	log := logr.FromContextOrDiscard(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.source.Changed():
		}
		snap := s.source.Snapshot()
		for _, target := range s.cfg.NotifyTargets {
			if err := s.notify(ctx, target, snap); err != nil && ctx.Err() == nil {
				log.Info("Secondary did not acknowledge NOTIFY", "target", target.String(), "serial", snap.Serial(), "err", err.Error())
			}
		}
	}
}

// notify sends one NOTIFY for snap's serial to target and waits for its
// acknowledgement, retrying a few times.
func (s *Server) notify(ctx context.Context, target netip.AddrPort, snap *Snapshot) error {
	m := new(dns.Msg)
	m.SetNotify(snap.Origin())
	m.Answer = []dns.RR{snap.soa(false)}
	c := &dns.Client{Net: "udp", Timeout: s.cfg.RequestTimeout}
	var err error
	for range notifyAttempts {
		var resp *dns.Msg
		resp, _, err = c.ExchangeContext(ctx, m, target.String())
		switch {
		case err != nil:
		case resp.Opcode != dns.OpcodeNotify || resp.Rcode != dns.RcodeSuccess:
			err = fmt.Errorf("answered opcode %s rcode %s", dns.OpcodeToString[resp.Opcode], dns.RcodeToString[resp.Rcode])
		default:
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t := time.NewTimer(s.cfg.RetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return err
}
