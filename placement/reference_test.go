package placement

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// This file is a brute-force reference, written from the rules as the
// package documents them and sharing no code with the planner.

// refCluster is one cluster of the inventory or of the current assignment.
type refCluster struct {
	name, region, zone string
	cur, start, kept   int
	inInventory        bool
	c                  Cluster
}

func refClusters(in Input) []refCluster {
	var out []refCluster
	idx := map[string]int{}
	for _, c := range in.Clusters {
		idx[c.Name] = len(out)
		out = append(out, refCluster{name: c.Name, region: c.Region, zone: c.Zone, inInventory: true, c: c})
	}
	for _, r := range in.Current {
		if r.Count == 0 {
			continue
		}
		i, ok := idx[r.Cluster]
		if !ok {
			i = len(out)
			idx[r.Cluster] = i
			out = append(out, refCluster{name: r.Cluster})
		}
		out[i].cur, out[i].start = r.Count, r.Start
		out[i].kept = max(0, min(r.Start+r.Count, in.Request.Replicas)-r.Start)
	}
	slices.SortFunc(out, func(a, b refCluster) int { return compareStrings(a.name, b.name) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// refMax is the most replicas a cluster may hold under the per-cluster
// rules alone.
func refMax(rc refCluster, req Request) int {
	if !rc.inInventory || !rc.c.Healthy || !refSelected(req.Selector, rc.c.Labels) {
		return 0
	}
	hi := req.Replicas
	for _, t := range rc.c.Taints {
		tol := false
		for _, x := range req.Tolerations {
			effectOK := x.Effect == "" || x.Effect == t.Effect
			keyOK := (x.Operator == Exists && (x.Key == "" || x.Key == t.Key)) || (x.Operator != Exists && x.Key == t.Key && x.Value == t.Value)
			tol = tol || (effectOK && keyOK)
		}
		if tol {
			continue
		}
		if t.Effect == NoExecute {
			return 0
		}
		hi = min(hi, rc.cur)
	}
	for _, b := range req.Bounds {
		if b.Cluster == rc.name && b.Max != nil {
			hi = min(hi, *b.Max)
		}
	}
	if rc.c.Capacity != nil {
		hi = min(hi, rc.cur+*rc.c.Capacity)
	}
	return hi
}

func refSelected(s *Selector, labels map[string]string) bool {
	if s == nil {
		return true
	}
	for k, v := range s.MatchLabels {
		if labels[k] != v {
			return false
		}
		if _, ok := labels[k]; !ok {
			return false
		}
	}
	for _, r := range s.MatchExpressions {
		v, ok := labels[r.Key]
		in := ok && slices.Contains(r.Values, v)
		if (r.Operator == In && !in) || (r.Operator == NotIn && in) || (r.Operator == LabelExists && !ok) || (r.Operator == DoesNotExist && ok) {
			return false
		}
	}
	return true
}

// refValid reports whether counts (by refClusters index) meet every rule.
func refValid(rcs []refCluster, req Request, n []int) bool {
	total := 0
	for i, rc := range rcs {
		total += n[i]
		if n[i] > refMax(rc, req) {
			return false
		}
		for _, b := range req.Bounds {
			if b.Cluster == rc.name && b.Min != nil && n[i] < *b.Min {
				return false
			}
		}
	}
	if total != req.Replicas {
		return false
	}
	if req.Replicas == 0 {
		return true
	}
	region := map[string]int{}
	for i, rc := range rcs {
		if rc.inInventory {
			region[rc.region] += n[i]
		}
	}
	switch req.Quorum.Rule {
	case NoRegionMajority:
		for _, c := range region {
			if c > (req.Replicas+1)/2-1 {
				return false
			}
		}
	case MajorityIn:
		if region[req.Quorum.Region] < req.Replicas/2+1 {
			return false
		}
	}
	for _, s := range req.Spread {
		if s.Soft {
			continue
		}
		key := func(rc refCluster) string {
			switch s.Topology {
			case ByRegion:
				return rc.region
			case ByZone:
				return rc.region + "/" + rc.zone
			}
			return rc.name
		}
		count, eligible := map[string]int{}, map[string]bool{}
		for i, rc := range rcs {
			if !rc.inInventory {
				continue
			}
			count[key(rc)] += n[i]
			eligible[key(rc)] = eligible[key(rc)] || refMax(rc, req) > 0
		}
		lo, hi, nonEmpty, domains := req.Replicas, 0, 0, 0
		for d, ok := range eligible {
			if !ok {
				continue
			}
			domains++
			lo, hi = min(lo, count[d]), max(hi, count[d])
			if count[d] > 0 {
				nonEmpty++
			}
		}
		if domains == 0 || hi-lo > s.MaxSkew || nonEmpty < min(s.MinDomains, req.Replicas) {
			return false
		}
	}
	return true
}

// refCompositions calls f with every way to give each of k clusters
// 0..total replicas adding up to total.
func refCompositions(k, total int, f func([]int)) {
	n := make([]int, k)
	var rec func(i, left int)
	rec = func(i, left int) {
		if i == k-1 {
			n[i] = left
			f(n)
			return
		}
		for x := 0; x <= left; x++ {
			n[i] = x
			rec(i+1, left-x)
		}
	}
	if k == 0 {
		if total == 0 {
			f(n)
		}
		return
	}
	rec(0, total)
}

// refMinMoves is the fewest moved ordinals over every order of the
// clusters with counts n on the ordinal line.
func refMinMoves(rcs []refCluster, n []int) int {
	var used []int
	for i := range rcs {
		if n[i] > 0 {
			used = append(used, i)
		}
	}
	best := -1
	var perm func(k int)
	perm = func(k int) {
		if k == len(used) {
			moves, q := 0, 0
			for _, i := range used {
				for _, rc := range rcs {
					lo, hi := max(q, rc.start), min(q+n[i], rc.start+rc.kept)
					if rc.name != rcs[i].name && hi > lo {
						moves += hi - lo
					}
				}
				q += n[i]
			}
			if best < 0 || moves < best {
				best = moves
			}
			return
		}
		for j := k; j < len(used); j++ {
			used[k], used[j] = used[j], used[k]
			perm(k + 1)
			used[k], used[j] = used[j], used[k]
		}
	}
	perm(0)
	return best
}

// randomInput makes a small random input: minClusters..maxClusters
// clusters and minReplicas..maxReplicas replicas, with every kind of rule
// now and then.
func randomInput(r *rand.Rand, minClusters, maxClusters, minReplicas, maxReplicas int) Input {
	var in Input
	regions := []string{"eu", "us", "ap"}
	nc := minClusters + r.IntN(maxClusters-minClusters+1)
	for i := range nc {
		c := Cluster{
			Name: fmt.Sprintf("c%d", i), Region: regions[r.IntN(len(regions))], Zone: []string{"a", "b"}[r.IntN(2)],
			Labels: map[string]string{"tier": []string{"gold", "silver"}[r.IntN(2)]}, Healthy: r.IntN(8) != 0,
		}
		if r.IntN(6) == 0 {
			c.Taints = append(c.Taints, Taint{Key: "maint", Effect: []Effect{NoSchedule, NoExecute}[r.IntN(2)]})
		}
		if r.IntN(5) == 0 {
			c.Capacity = ptr(r.IntN(4))
		}
		in.Clusters = append(in.Clusters, c)
	}
	req := &in.Request
	req.Replicas = minReplicas + r.IntN(maxReplicas-minReplicas+1)
	if r.IntN(6) == 0 {
		req.Selector = &Selector{MatchLabels: map[string]string{"tier": "gold"}}
	}
	if r.IntN(6) == 0 {
		req.Tolerations = []Toleration{{Key: "maint", Operator: Exists}}
	}
	for _, t := range []Topology{ByRegion, ByZone, ByCluster} {
		if r.IntN(4) == 0 {
			req.Spread = append(req.Spread, Spread{Topology: t, MaxSkew: 1 + r.IntN(2), MinDomains: r.IntN(3), Soft: r.IntN(4) == 0})
		}
	}
	for _, c := range in.Clusters {
		if r.IntN(4) != 0 {
			continue
		}
		b := Bounds{Cluster: c.Name}
		if r.IntN(2) == 0 {
			b.Min = ptr(r.IntN(2))
		}
		if r.IntN(2) == 0 {
			b.Max = ptr(1 + r.IntN(3))
		}
		if r.IntN(2) == 0 {
			b.Weight = ptr(r.IntN(4))
		}
		if b.Min != nil && b.Max != nil && *b.Min > *b.Max {
			b.Min = b.Max
		}
		req.Bounds = append(req.Bounds, b)
	}
	switch r.IntN(6) {
	case 0:
		req.Quorum = Quorum{Rule: NoRegionMajority}
	case 1:
		req.Quorum = Quorum{Rule: MajorityIn, Region: regions[r.IntN(len(regions))]}
	}
	if r.IntN(3) == 0 {
		req.PrimaryRegions = []string{regions[r.IntN(len(regions))]}
	}
	// Today's assignment: a random tiling over a random order of clusters,
	// sometimes with a cluster that has left the inventory.
	if old := r.IntN(maxReplicas + 1); old > 0 && r.IntN(4) != 0 {
		names := make([]string, 0, nc+1)
		for _, c := range in.Clusters {
			names = append(names, c.Name)
		}
		if r.IntN(5) == 0 {
			names = append(names, "gone")
		}
		r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		start := 0
		for i, name := range names {
			cnt := r.IntN(old - start + 1)
			if i == len(names)-1 {
				cnt = old - start
			}
			if cnt > 0 {
				in.Current = append(in.Current, Range{Cluster: name, Start: start, Count: cnt})
			}
			start += cnt
		}
	}
	return in
}

func ptr[T any](v T) *T { return &v }
