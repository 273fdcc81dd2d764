package drill

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill/load"
	"github.com/fedstate/fedstate/federation/drill/report"
)

// Traffic is the client traffic of a drill; *load.Generator is the one to
// use, tests give a fake.
type Traffic interface {
	// Run sends traffic until ctx ends, then returns; it blocks.
	Run(ctx context.Context) error
	// Snapshot summarises the traffic so far. Safe for concurrent use.
	Snapshot() load.Snapshot
	// Ops returns the operations recorded so far. Safe for concurrent use.
	Ops() []load.Op
	// Verify returns the acknowledged writes the server at addr lacks. It
	// blocks on the server within ctx; safe for concurrent use.
	Verify(ctx context.Context, addr netip.AddrPort) ([]int64, error)
}

// NewTraffic makes the traffic of a drill run from its configuration.
type NewTraffic func(cfg load.Config) (Traffic, error)

// NewLoad is the NewTraffic of real drills: a load.Generator.
func NewLoad(cfg load.Config) (Traffic, error) { return load.New(cfg) }

// run is the traffic of one drill run and what the controller sampled
// during it.
type run struct {
	id      int32
	traffic Traffic
	cancel  context.CancelFunc
	done    chan struct{}

	mu  sync.Mutex
	lag map[string][]report.LagSample
}

// sampleLag records the replicas' lag the service's status shows.
func (r *run) sampleLag(fss *v1alpha1.FederatedStatefulSet, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range fss.Status.ReplicaStatuses {
		if rs.LagBytes == nil || rs.Role == v1alpha1.RolePrimary {
			continue
		}
		name := replicaName(fss.Name, rs.Ordinal)
		r.lag[name] = append(r.lag[name], report.LagSample{At: at, Bytes: *rs.LagBytes})
	}
}

// lagSeries returns the sampled lag, one series per replica by name.
func (r *run) lagSeries() []report.LagSeries {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]report.LagSeries, 0, len(r.lag))
	for name, s := range r.lag {
		out = append(out, report.LagSeries{Replica: name, Samples: append([]report.LagSample(nil), s...)})
	}
	slices.SortFunc(out, func(a, b report.LagSeries) int { return strings.Compare(a.Replica, b.Replica) })
	return out
}

// runs holds the traffic of the drills under way, by drill UID. Safe for
// concurrent use.
type runs struct {
	mu sync.Mutex
	m  map[types.UID]*run
}

// start runs t for the run id of drill uid, replacing any other run of
// it.
func (rs *runs) start(uid types.UID, id int32, t Traffic) *run {
	rs.forget(uid)
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{id: id, traffic: t, cancel: cancel, done: make(chan struct{}), lag: map[string][]report.LagSample{}}
	go func() {
		defer close(r.done)
		_ = t.Run(ctx) // returns nil when ctx ends; the record says the rest
	}()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = map[types.UID]*run{}
	}
	rs.m[uid] = r
	return r
}

// get returns the run of drill uid with id; nil when this hub does not
// run it (it was started by another, or before a restart).
func (rs *runs) get(uid types.UID, id int32) *run {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.m[uid]; r != nil && r.id == id {
		return r
	}
	return nil
}

// stop ends the traffic of drill uid and waits for it; its record stays
// until forget. It returns the run, nil when there is none.
func (rs *runs) stop(uid types.UID) *run {
	rs.mu.Lock()
	r := rs.m[uid]
	rs.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
	return r
}

// forget ends the traffic of drill uid and drops its record.
func (rs *runs) forget(uid types.UID) {
	rs.stop(uid)
	rs.mu.Lock()
	delete(rs.m, uid)
	rs.mu.Unlock()
}

// forgetAll ends every run's traffic and drops their records.
func (rs *runs) forgetAll() {
	rs.mu.Lock()
	uids := make([]types.UID, 0, len(rs.m))
	for uid := range rs.m {
		uids = append(uids, uid)
	}
	rs.mu.Unlock()
	for _, uid := range uids {
		rs.forget(uid)
	}
}
