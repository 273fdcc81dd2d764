package placement

import (
	"fmt"
	"sort"
	"strings"
)

// candidate is one cluster, from the inventory or only from the current
// assignment, with the bounds the request and its state put on it.
type candidate struct {
	name, region, zone string
	// inventory is false for a cluster that is only in Current (gone).
	inventory bool
	// cur is the number of replicas the cluster runs now; kept is how many
	// of them have ordinals below the requested replica count.
	cur, kept int
	// start is the first ordinal the cluster runs now.
	start int
	// lo and hi bound the cluster's target count.
	lo, hi int
	weight int
	// evict is set when the cluster must give every replica away (gone,
	// unhealthy, unselected, NoExecute); it orders moves.
	evict bool
	notes []string
}

// candidates builds one candidate per cluster of the inventory or of the
// current assignment, sorted by name.
func candidates(in Input) []*candidate {
	byName := map[string]*candidate{}
	var out []*candidate
	for _, c := range in.Clusters {
		cd := &candidate{name: c.Name, region: c.Region, zone: c.Zone, inventory: true, weight: 1, hi: in.Request.Replicas}
		byName[c.Name] = cd
		out = append(out, cd)
	}
	for _, r := range in.Current {
		if r.Count == 0 {
			continue
		}
		cd := byName[r.Cluster]
		if cd == nil {
			cd = &candidate{name: r.Cluster, weight: 1}
			byName[r.Cluster] = cd
			out = append(out, cd)
		}
		cd.cur, cd.start = r.Count, r.Start
		cd.kept = max(0, min(r.Start+r.Count, in.Request.Replicas)-r.Start)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })

	bounds := map[string]Bounds{}
	for _, b := range in.Request.Bounds {
		bounds[b.Cluster] = b
	}
	for _, c := range in.Clusters {
		byName[c.Name].restrict(c, in.Request, bounds[c.Name])
	}
	for _, cd := range out {
		if !cd.inventory {
			cd.hi, cd.evict = 0, true
			cd.notes = append(cd.notes, "not in the inventory (removed)")
		}
	}
	return out
}

// restrict applies the request and the cluster's state to the candidate's
// bounds, noting why each limit applies.
func (cd *candidate) restrict(c Cluster, r Request, b Bounds) {
	exclude := func(why string) {
		cd.hi, cd.evict = 0, true
		cd.notes = append(cd.notes, why)
	}
	if b.Weight != nil {
		cd.weight = *b.Weight
	}
	if b.Min != nil {
		cd.lo = *b.Min
	}
	switch {
	case !c.Healthy:
		exclude("unhealthy")
	case !r.Selector.matches(c.Labels):
		exclude("not selected by the cluster selector")
	}
	for _, t := range c.Taints {
		if tolerated(t, r.Tolerations) {
			continue
		}
		switch t.Effect {
		case NoExecute:
			exclude("tainted " + t.String() + " (not tolerated)")
		case NoSchedule:
			if cd.hi > cd.cur {
				cd.hi = cd.cur
				if cd.cur == 0 {
					cd.notes = append(cd.notes, fmt.Sprintf("tainted %s (not tolerated): gets no replicas", t))
				} else {
					cd.notes = append(cd.notes, fmt.Sprintf("tainted %s (not tolerated): keeps its %d, gets no new replicas", t, cd.cur))
				}
			}
		}
	}
	if b.Max != nil && *b.Max < cd.hi {
		cd.hi = *b.Max
		cd.notes = append(cd.notes, fmt.Sprintf("max %d", *b.Max))
	}
	if c.Capacity != nil && cd.cur+*c.Capacity < cd.hi {
		cd.hi = cd.cur + *c.Capacity
		cd.notes = append(cd.notes, fmt.Sprintf("capacity for %d more: at most %d", *c.Capacity, cd.hi))
	}
	if cd.lo > 0 {
		cd.notes = append(cd.notes, fmt.Sprintf("min %d", cd.lo))
	}
}

// String renders a taint as key=value:Effect.
func (t Taint) String() string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

func tolerated(t Taint, tols []Toleration) bool {
	for _, tol := range tols {
		if tol.Effect != "" && tol.Effect != t.Effect {
			continue
		}
		if tol.Operator == Exists {
			if tol.Key == "" || tol.Key == t.Key {
				return true
			}
			continue
		}
		if tol.Key == t.Key && tol.Value == t.Value {
			return true
		}
	}
	return false
}

// matches reports whether labels satisfy the selector; a nil selector
// matches everything.
func (s *Selector) matches(labels map[string]string) bool {
	if s == nil {
		return true
	}
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, req := range s.MatchExpressions {
		v, ok := labels[req.Key]
		switch req.Operator {
		case In:
			if !ok || !contains(req.Values, v) {
				return false
			}
		case NotIn:
			if ok && contains(req.Values, v) {
				return false
			}
		case LabelExists:
			if !ok {
				return false
			}
		case DoesNotExist:
			if ok {
				return false
			}
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// domainKey names the domain of a candidate at a topology level; zones are
// qualified by their region so that the levels nest.
func (cd *candidate) domainKey(t Topology) string {
	switch t {
	case ByRegion:
		return cd.region
	case ByZone:
		return cd.region + "/" + cd.zone
	default:
		return cd.name
	}
}

// describe is the candidate's notes as one clause, for diagnoses.
func (cd *candidate) describe() string {
	if len(cd.notes) == 0 {
		return cd.name
	}
	return cd.name + " (" + strings.Join(cd.notes, "; ") + ")"
}
