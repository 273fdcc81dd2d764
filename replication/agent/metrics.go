package agent

import "github.com/prometheus/client_golang/prometheus"

// metrics are the agent's Prometheus metrics.
type metrics struct {
	replicas    prometheus.Gauge
	primaries   prometheus.Gauge
	commands    *prometheus.CounterVec
	selfFences  *prometheus.CounterVec
	reports     *prometheus.CounterVec
	follows     *prometheus.CounterVec
	sessions    prometheus.Counter
	sessionLive prometheus.Gauge
	givenUp     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		replicas: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedstate_agent_replicas", Help: "Replicas this agent runs a server for."}),
		primaries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedstate_agent_primary_leases", Help: "Primary leases this agent holds."}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_agent_commands_total", Help: "Commands carried out, by kind and outcome (done, error)."},
			[]string{"kind", "outcome"}),
		selfFences: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_agent_self_fences_total", Help: "Primaries this agent fenced on its own, by reason (lease_lost, not_renewed, unleased)."},
			[]string{"reason"}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_agent_reports_total", Help: "Position reports written, by outcome (ok, error)."},
			[]string{"outcome"}),
		follows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedstate_agent_follows_total", Help: "Replicas made to follow a primary, by what their data needed (none, rewind, basebackup)."},
			[]string{"path"}),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedstate_agent_session_starts_total", Help: "Sessions opened (or taken over) in the federation etcd."}),
		sessionLive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedstate_agent_session_up", Help: "1 while the agent's etcd session is alive."}),
		givenUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedstate_agent_primaries_given_up_total", Help: "Primary leases given up because the primary's server could not serve for --primary-give-up."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.replicas, m.primaries, m.commands, m.selfFences, m.reports, m.follows, m.sessions, m.sessionLive, m.givenUp} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
