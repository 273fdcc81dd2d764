package dnsserver

import (
	"errors"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of one DNS server. Their names
// follow fedstate_dns_<name>_<unit|total>; every label is bounded.
type Metrics struct {
	queries      *prometheus.CounterVec
	counters     sync.Map // qtype<<16 | rcode -> prometheus.Counter of queries
	latency      *prometheus.HistogramVec
	udpLatency   prometheus.Observer
	tcpLatency   prometheus.Observer
	serial       prometheus.Gauge
	watchLag     prometheus.Gauge
	stale        prometheus.Gauge
	rebuilds     prometheus.Counter
	rebuildTime  prometheus.Histogram
	recordErrors prometheus.Counter
	transfers    *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_dns_queries_total", Help: "DNS queries answered, by query type and response code.",
		}, []string{"qtype", "rcode"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fedstate_dns_query_duration_seconds", Help: "Time to build and write an answer, by transport.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 2.5, 10),
		}, []string{"transport"}),
		serial: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedstate_dns_snapshot_serial", Help: "SOA serial (etcd revision, low 32 bits) of the snapshot being served.",
		}),
		watchLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedstate_dns_watch_lag_seconds", Help: "Seconds since the etcd watch last proved alive (event or progress notification).",
		}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedstate_dns_watch_stale", Help: "1 while the watch is lost beyond the bound and primary names answer SERVFAIL.",
		}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedstate_dns_snapshot_rebuilds_total", Help: "Snapshots built (full loads and incremental updates).",
		}),
		rebuildTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fedstate_dns_snapshot_rebuild_duration_seconds", Help: "Time to build a new snapshot.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10),
		}),
		recordErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedstate_dns_record_errors_total", Help: "etcd keys or values left out of the snapshot because they are malformed.",
		}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_dns_transfers_total",
			Help: "Zone transfers served, by query type (AXFR, IXFR) and content: zone (all records), differences (IXFR from the journal) or current (lone SOA).",
		}, []string{"qtype", "content"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_dns_rate_limited_total",
			Help: "UDP queries over their client network's response rate limit, by action: dropped, or slipped (answered truncated).",
		}, []string{"action"}),
	}
	m.udpLatency, m.tcpLatency = m.latency.WithLabelValues("udp"), m.latency.WithLabelValues("tcp")
	var errs []error
	for _, c := range []prometheus.Collector{m.queries, m.latency, m.serial, m.watchLag, m.stale, m.rebuilds, m.rebuildTime, m.recordErrors, m.transfers, m.rateLimited} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

// observe counts one answered query and its latency. It resolves the
// labels once per query type and rcode, not per query.
func (m *Metrics) observe(qtype uint16, rcode int, tcp bool, d time.Duration) {
	key := uint32(qtype)<<16 | uint32(uint16(rcode))
	c, ok := m.counters.Load(key)
	if !ok {
		c, _ = m.counters.LoadOrStore(key, m.queries.WithLabelValues(qtypeLabel(qtype), dns.RcodeToString[rcode]))
	}
	c.(prometheus.Counter).Inc()
	if tcp {
		m.tcpLatency.Observe(d.Seconds())
	} else {
		m.udpLatency.Observe(d.Seconds())
	}
}
