package statefulset

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

const controllerName = "federatedstatefulset"

var (
	reconcileTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedstate_reconcile_total",
		Help: "Reconciles by controller and result (success or error).",
	}, []string{"controller", "result"})
	reconcileDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fedstate_reconcile_duration_seconds",
		Help:    "Time one reconcile took, by controller.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"controller"})
	clusterReplicas = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fedstate_cluster_replicas",
		Help: "Replicas of all services placed in each member cluster.",
	}, []string{"cluster"})
	clusterReadyReplicas = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fedstate_cluster_ready_replicas",
		Help: "Ready replicas of all services in each member cluster.",
	}, []string{"cluster"})
	movesInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "fedstate_moves_in_flight",
		Help: "Replicas moving between member clusters now, over all services.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(reconcileTotal, reconcileDuration, clusterReplicas, clusterReadyReplicas, movesInFlight)
}

// counts are one service's replicas, ready replicas and moves.
type counts struct {
	replicas, ready map[string]int
	moves           int
}

// metrics sums the per-cluster gauges over services.
type metrics struct {
	mu      sync.Mutex
	service map[types.NamespacedName]counts
	total   counts
}

func newMetrics() *metrics {
	return &metrics{service: map[types.NamespacedName]counts{}, total: counts{replicas: map[string]int{}, ready: map[string]int{}}}
}

func (m *metrics) observe(start time.Time, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	reconcileTotal.WithLabelValues(controllerName, result).Inc()
	reconcileDuration.WithLabelValues(controllerName).Observe(time.Since(start).Seconds())
}

// set records one service's counts and refreshes the sums.
func (m *metrics) set(svc types.NamespacedName, c counts) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(m.service[svc], -1)
	m.service[svc] = c
	m.add(c, 1)
}

// forget drops a deleted service from the sums.
func (m *metrics) forget(svc types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(m.service[svc], -1)
	delete(m.service, svc)
}

// add adds sign times c to the totals and publishes the clusters it names.
func (m *metrics) add(c counts, sign int) {
	for k, v := range c.replicas {
		m.total.replicas[k] += sign * v
		clusterReplicas.WithLabelValues(k).Set(float64(m.total.replicas[k]))
	}
	for k, v := range c.ready {
		m.total.ready[k] += sign * v
		clusterReadyReplicas.WithLabelValues(k).Set(float64(m.total.ready[k]))
	}
	m.total.moves += sign * c.moves
	movesInFlight.Set(float64(m.total.moves))
}
