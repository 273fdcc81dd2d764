package drill

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	runsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedstate_drill_runs_total",
		Help: "Drill runs finished, by kind (Switchover, RegionOutage, Failback) and result (Passed, Failed, Aborted).",
	}, []string{"kind", "result"})
	rtoSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fedstate_drill_rto_seconds",
		Help:    "RTO a drill run measured: from its switchover request to the first write the new primary acknowledged, by kind.",
		Buckets: []float64{0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120, 300},
	}, []string{"kind"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(runsTotal, rtoSeconds)
}
