package report

import (
	"net/netip"
	"time"

	"github.com/fedstate/fedstate/federation/drill/load"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// fixture is a region-outage drill of 30 s: writes at 20/s on the old
// primary, the region lost at 10 s, the new primary promoted and named at
// 17.4 s, clients back at 17.9 s; two replicas whose lag grows while the
// old primary writes and falls once the new one takes over.
func fixture() Data {
	lag := func(name string, scale int64) LagSeries {
		s := LagSeries{Replica: name}
		for ms := 0; ms <= 30000; ms += 500 {
			b := scale
			switch {
			case ms >= 10000 && ms < 17400:
				b = 0 // its primary is gone: no lag reported
			case ms < 10000:
				b = scale * int64(1+ms%2000/500)
			}
			s.Samples = append(s.Samples, LagSample{At: at(ms), Bytes: b})
		}
		return s
	}
	return Data{
		Title: "Region outage of eu-west, prod/db",
		Start: t0,
		Phases: []Phase{
			{Name: "detect", Start: at(10000), End: at(15600)},
			{Name: "fence", Start: at(15600), End: at(16100)},
			{Name: "promote", Start: at(16100), End: at(17400)},
			{Name: "DNS published", Start: at(17400)},
			{Name: "first client success", Start: at(17400), End: at(17904)},
		},
		Failover: at(17400),
		Load:     load.Analyze(fixtureOps(30000), t0, at(30000), 500*time.Millisecond),
		Lag:      []LagSeries{lag("db-1", 8192), lag("db-2", 3<<20)},
		Verdict:  Verdict{Result: Passed, Reason: "no acknowledged write lost; clients wrote again 7.9 s after the outage"},
		RPO:      RPO{Bytes: 0, Transactions: 0},
	}
}

// fixtureOps are the drill's writes invoked before ms.
func fixtureOps(until int) []load.Op {
	oldPrimary, newPrimary := netip.MustParseAddrPort("127.12.0.2:5432"), netip.MustParseAddrPort("127.13.0.2:5432")
	var ops []load.Op
	id := int64(0)
	for ms := 0; ms < until; ms += 50 {
		id++
		op := load.Op{Kind: load.Write, ID: id, Invoke: at(ms), Return: at(ms + 3 + int(id%5)), Outcome: load.OK, Addr: oldPrimary}
		switch {
		case ms >= 10000 && ms < 15000:
			op.Return, op.Outcome, op.Err = at(ms+1000), load.ErrTimeout, "insert: timeout"
			ms += 950
		case ms >= 15000 && ms < 17400:
			op.Return, op.Outcome, op.Err = at(ms+2), load.ErrConnect, "connection refused"
		case ms >= 17400 && ms < 17900:
			op.Return, op.Outcome, op.Err, op.Addr = at(ms+1), load.ErrDNS, "SERVFAIL", netip.AddrPort{}
		case ms >= 17900:
			op.Addr = newPrimary
		}
		ops = append(ops, op)
	}
	return ops
}
