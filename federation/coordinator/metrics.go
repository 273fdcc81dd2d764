package coordinator

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	leaderGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "fedstate_failover_leader",
		Help: "1 while this hub replica holds the failover leadership in the federation etcd.",
	})
	servicesGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "fedstate_failover_services",
		Help: "Services in PrimaryReplica mode this hub coordinates now.",
	})
	promotionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedstate_failover_promotions_total",
		Help: "Promotions committed in the federation etcd, by cause (Bootstrap, LeaseExpired, Switchover, Manual, ...).",
	}, []string{"cause"})
	commitFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedstate_failover_commit_failures_total",
		Help: "Promotion transactions refused, by reason (fenced: the leadership ended; conflict: etcd changed first; error: no answer).",
	}, []string{"reason"})
	rtoSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fedstate_failover_rto_seconds",
		Help:    "Time from detection (lease expiry or request) to the new primary promoted and named by DNS, by cause.",
		Buckets: []float64{0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120, 300},
	}, []string{"cause"})
	phaseSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fedstate_failover_phase_duration_seconds",
		Help:    "Time each phase of a change of primary took: detect_to_commit, commit_to_promoted.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120},
	}, []string{"phase"})
	dataLossBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fedstate_failover_data_loss_bytes_total",
		Help: "Estimated bytes of log lost by committed promotions (a lower bound, from the last reports).",
	})
	measuredLossBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fedstate_failover_measured_loss_bytes_total",
		Help: "Bytes of log lost by changes of primary, as measured on the returning old primaries before they were rewound.",
	})
	lostTransactions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fedstate_failover_lost_transactions_total",
		Help: "Committed transactions lost by changes of primary, as measured on the returning old primaries before they were rewound.",
	})
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedstate_failover_requests_total",
		Help: "Operator requests by kind (Switchover, Failover) and outcome (Accepted, Refused, Succeeded, Failed).",
	}, []string{"kind", "outcome"})
	commandsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedstate_failover_commands_total",
		Help: "Commands written for agents, by kind.",
	}, []string{"kind"})
	dnsWritesTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fedstate_failover_dns_writes_total",
		Help: "Transactions that published replica and service DNS records (outside promotions).",
	})
	suspicionsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fedstate_failover_primary_suspected_total",
		Help: "Times gossip declared a primary's cluster dead while the primary held its lease (event PrimaryClusterSuspected).",
	})
	sessionErrorsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fedstate_failover_session_errors_total",
		Help: "Times a service's coordination restarted from a fresh etcd snapshot after an error.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(leaderGauge, servicesGauge, promotionsTotal, commitFailuresTotal, rtoSeconds,
		phaseSeconds, dataLossBytes, measuredLossBytes, lostTransactions, requestsTotal, commandsTotal, dnsWritesTotal, sessionErrorsTotal, suspicionsTotal)
}
