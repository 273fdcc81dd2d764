package coordinator

import (
	"slices"
	"time"

	"github.com/fedstate/fedstate/replication/failover"
)

// changes returns the events that bring the machine's picture of the
// replicas and the placement in s up to the view: PlacementChanged when
// the allowed clusters differ, ReplicaChanged for each replica whose
// cluster, readiness or reachability differs, and ReplicaChanged with Gone
// for replicas scaled away. silent names the replicas whose agent's
// report vanished (its session ended): they count as unreachable.
func changes(s *failover.State, v *view, silent map[int]bool, at time.Time) []failover.Event {
	var evs []failover.Event
	allowed := v.allowed
	if len(allowed) == 0 {
		allowed = nil
	}
	if !slices.Equal(allowed, s.Allowed) {
		evs = append(evs, failover.PlacementChanged{Allowed: slices.Clone(allowed), At: at})
	}
	for _, p := range v.placed {
		name := replicaName(v.name, p.ordinal)
		want := failover.ReplicaChanged{Replica: name, Cluster: p.cluster, Region: p.region,
			Healthy: p.ready, Reachable: p.reachable && !silent[p.ordinal], At: at}
		r := s.Replica(name)
		if r == nil || r.Cluster != want.Cluster || r.Region != want.Region || r.Healthy != want.Healthy || r.Reachable != want.Reachable {
			evs = append(evs, want)
		}
	}
	for _, r := range s.Replicas {
		n, ok := ordinalOf(v.name, r.Name)
		switch {
		case ok && n >= v.replicas:
			evs = append(evs, failover.ReplicaChanged{Replica: r.Name, Gone: true, At: at})
		case ok && v.replica(n) == nil && (r.Healthy || r.Reachable):
			// Placed nowhere for now (moving between clusters): keep it,
			// as neither ready nor reachable.
			evs = append(evs, failover.ReplicaChanged{Replica: r.Name, At: at})
		}
	}
	return evs
}

// firstPrimary chooses a new service's first primary: the lowest ordinal
// in the first of the preferred regions that has a replica, else ordinal
// 0. It returns false until every ordinal is placed and the chosen
// replica's cluster is reachable.
func firstPrimary(v *view) (int, bool) {
	if !v.complete {
		return 0, false
	}
	choice := v.placed[0]
	for _, region := range v.primaryRegions {
		i := slices.IndexFunc(v.placed, func(p placed) bool { return p.region == region })
		if i >= 0 {
			choice = v.placed[i]
			break
		}
	}
	return choice.ordinal, choice.reachable
}
