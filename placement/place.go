package placement

import (
	"sort"
)

// Decision is placement's answer for one service.
type Decision struct {
	// Assignment is the target: one contiguous range per cluster that
	// runs replicas, in ordinal order. Empty when Unschedulable.
	Assignment []Range
	// Moves are the replicas that change cluster, in the order they should
	// happen: replicas of clusters that must be vacated first, then by
	// ordinal.
	Moves []Move
	// Unschedulable is true when no assignment meets every rule; Reasons
	// then says why, in words a person can act on. The current assignment
	// stays as it is.
	Unschedulable bool
	Reasons       []string
	// Clusters reports every cluster of the inventory or the current
	// assignment, by name: its counts and why it is excluded or capped.
	Clusters []ClusterReport
	// PrimaryOrdinal is the lowest ordinal in the most preferred primary
	// region that holds replicas, or -1 without a preference or replica.
	PrimaryOrdinal int
	// MinimalMoves is false when the layout search ran out of steps and
	// kept today's cluster order instead of proving the fewest moves.
	MinimalMoves bool
}

// ClusterReport is one cluster's part of a decision.
type ClusterReport struct {
	Name string
	// Current and Target are the replicas the cluster runs now and after
	// the decision.
	Current, Target int
	// Min and Max are the bounds every rule together put on the cluster.
	Min, Max int
	// Excluded is true when the cluster may hold no replica.
	Excluded bool
	// Notes say why the cluster is excluded or capped.
	Notes []string
}

// Place decides which cluster runs which ordinal. It is a pure function:
// the same input gives the same decision. Invalid input returns an error
// wrapping ErrInvalidInput that names the fields; a request no assignment
// can meet returns a decision with Unschedulable set.
//
// The decision, in order of precedence: every rule holds (selector, taints,
// health, capacity, per-cluster bounds, hard spread constraints, quorum);
// as few replicas as possible leave clusters that may keep them; the
// counts follow the weights as closely as integers allow (or, within
// MoveBudget extra moves, rebalance to them); the preferred primary region
// holds a replica; the ranges are laid out to move the fewest replicas for
// those counts; remaining ties go by cluster name.
func Place(in Input) (Decision, error) {
	if err := in.Validate(); err != nil {
		return Decision{}, err
	}
	cands := candidates(in)
	stable := stableOrder(cands, in.Request.PrimaryRegions)
	d := Decision{PrimaryOrdinal: -1, MinimalMoves: true}

	counts, reasons := allocate(cands, in.Request, allocOptions{})
	if counts == nil {
		// The greedy allocation can miss a solution when minimum-domain
		// rules meet other lower bounds; search before giving up.
		hint := make([]int, len(cands))
		for i, cd := range cands {
			hint[i] = cd.kept
		}
		s := searcher{cands: cands, req: in.Request, stable: stable, hint: hint}
		s.run()
		if s.best != nil {
			counts = s.best.counts
		} else if s.exhausted {
			reasons = append(reasons, "the search for an assignment stopped after its step limit; the request may still be schedulable")
		}
	}
	if counts == nil {
		d.Unschedulable, d.Reasons = true, reasons
		d.Clusters = reports(cands, nil)
		return d, nil
	}
	if pref := preferredRegion(cands, counts, in.Request.PrimaryRegions); pref != "" {
		if alt, _ := allocate(cands, in.Request, allocOptions{needRegion: pref}); alt != nil && displaced(cands, alt) == displaced(cands, counts) {
			counts = alt
		}
	}
	best := improve(cands, in.Request, counts, stable)
	if in.MoveBudget > 0 {
		if alt, _ := allocate(cands, in.Request, allocOptions{ignoreKept: true}); alt != nil {
			slots, minimal := arrange(cands, alt, stable)
			p := plan{counts: alt, slots: slots, minimal: minimal, moves: len(movesOf(cands, slots, in.Request.Replicas)), gap: weightGap(cands, in.Request, alt)}
			if p.moves-best.moves <= in.MoveBudget && p.gap < best.gap {
				best = p
			}
		}
	}
	counts, slots, minimal, moves := best.counts, best.slots, best.minimal, movesOf(cands, best.slots, in.Request.Replicas)
	d.MinimalMoves = minimal
	start := 0
	for _, s := range slots {
		d.Assignment = append(d.Assignment, Range{Cluster: cands[s.cand].name, Start: start, Count: s.count})
		start += s.count
	}
	d.Moves = moves
	d.Clusters = reports(cands, counts)
	d.PrimaryOrdinal = primaryOrdinal(cands, d.Assignment, in.Request.PrimaryRegions)
	return d, nil
}

// weightGap is how far counts are from the weighted shares, in the units
// of the allocation cost.
func weightGap(cands []*candidate, req Request, counts []int) int64 {
	var total, eligible int64
	for _, cd := range cands {
		if cd.hi > 0 {
			total += int64(cd.weight)
			eligible++
		}
	}
	var gap int64
	for i, cd := range cands {
		w, sum := int64(cd.weight), total
		if total == 0 {
			w, sum = 1, eligible
		}
		d := int64(counts[i])*sum - int64(req.Replicas)*w
		gap += max(d, -d)
	}
	return gap
}

// stableOrder lists candidate indexes with the preferred primary regions
// first (so that ordinal 0 lands there), then by name.
func stableOrder(cands []*candidate, prefer []string) []int {
	rank := func(cd *candidate) int {
		for i, r := range prefer {
			if cd.region == r {
				return i
			}
		}
		return len(prefer)
	}
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rank(cands[order[a]]) < rank(cands[order[b]]) })
	return order
}

// preferredRegion returns the most preferred eligible primary region when
// no preferred region holds a replica, else "".
func preferredRegion(cands []*candidate, counts []int, prefer []string) string {
	held := map[string]bool{}
	eligible := map[string]bool{}
	for i, cd := range cands {
		held[cd.region] = held[cd.region] || counts[i] > 0
		eligible[cd.region] = eligible[cd.region] || cd.hi > 0
	}
	for _, r := range prefer {
		if held[r] {
			return ""
		}
	}
	for _, r := range prefer {
		if eligible[r] {
			return r
		}
	}
	return ""
}

// displaced counts the replicas that leave clusters still running some.
func displaced(cands []*candidate, counts []int) int {
	d := 0
	for i, cd := range cands {
		d += max(0, cd.kept-counts[i])
	}
	return d
}

// movesOf lists the ordinals whose cluster changes, vacated clusters first.
func movesOf(cands []*candidate, slots []slot, replicas int) []Move {
	target := make([]int, replicas)
	q := 0
	for _, s := range slots {
		for k := 0; k < s.count; k++ {
			target[q+k] = s.cand
		}
		q += s.count
	}
	var moves []Move
	evict := map[string]bool{}
	for i, cd := range cands {
		for o := cd.start; o < cd.start+cd.kept; o++ {
			if target[o] != i {
				moves = append(moves, Move{Ordinal: o, From: cd.name, To: cands[target[o]].name})
			}
		}
		evict[cd.name] = cd.evict
	}
	sort.Slice(moves, func(a, b int) bool {
		if evict[moves[a].From] != evict[moves[b].From] {
			return evict[moves[a].From]
		}
		return moves[a].Ordinal < moves[b].Ordinal
	})
	return moves
}

func reports(cands []*candidate, counts []int) []ClusterReport {
	out := make([]ClusterReport, len(cands))
	for i, cd := range cands {
		out[i] = ClusterReport{Name: cd.name, Current: cd.cur, Min: cd.lo, Max: cd.hi, Excluded: cd.hi == 0, Notes: cd.notes}
		if counts != nil {
			out[i].Target = counts[i]
		} else {
			out[i].Target = cd.cur
		}
	}
	return out
}

func primaryOrdinal(cands []*candidate, assignment []Range, prefer []string) int {
	region := map[string]string{}
	for _, cd := range cands {
		region[cd.name] = cd.region
	}
	for _, r := range prefer {
		for _, a := range assignment {
			if region[a.Cluster] == r && a.Count > 0 {
				return a.Start
			}
		}
	}
	return -1
}
