package placement

// maxSearchNodes bounds the search for counts whose layout moves fewer
// replicas than the first allocation's; past it the decision keeps the
// best found and reports the moves as not proven minimal.
const maxSearchNodes = 200_000

// plan is a laid-out allocation and its price.
type plan struct {
	counts  []int
	slots   []slot
	moves   int
	gap     int64
	minimal bool
}

// improve finds the counts whose layout moves the fewest replicas, then
// comes closest to the weights.
//
// It starts from the allocation counts, which displace as few replicas as
// any valid allocation can; that number is a lower bound on the moves, so
// when their layout reaches it (no growth in the middle of the line shifts
// a neighbour) they are optimal and nothing else is tried. Otherwise it
// searches the counts (see search) for fewer moves.
func improve(cands []*candidate, req Request, counts []int, stable []int) plan {
	best := evalPlan(cands, req, counts, stable)
	if best.moves == displaced(cands, counts) {
		return best
	}
	s := searcher{cands: cands, req: req, stable: stable, hint: counts, best: &best}
	s.run()
	found := *s.best
	found.minimal = found.minimal && !s.exhausted
	return found
}

// evalPlan lays counts out and prices the result.
func evalPlan(cands []*candidate, req Request, n []int, stable []int) plan {
	slots, minimal := arrange(cands, n, stable)
	return plan{counts: append([]int(nil), n...), slots: slots, moves: len(movesOf(cands, slots, req.Replicas)), gap: weightGap(cands, req, n), minimal: minimal}
}

// searcher is a branch-and-bound search over the counts, cluster by
// cluster in stable order, trying the hint's count first and then outward
// from it. It prunes every partial allocation whose displaced replicas
// already reach the best moves found or whose remaining clusters cannot
// hold the remaining replicas, and lays out each complete allocation that
// keeps every rule. Without an incumbent it finds whether any allocation
// keeps every rule.
type searcher struct {
	cands  []*candidate
	req    Request
	stable []int
	hint   []int
	// best is the incumbent; nil until one is found.
	best      *plan
	nodes     int
	exhausted bool
	// restLoss[k] is the fewest replicas the clusters stable[k:] must give
	// away; restLo and restHi bound what they can hold together.
	restLoss, restLo, restHi []int
	n                        []int
}

func (s *searcher) run() {
	k := len(s.stable)
	s.restLoss, s.restLo, s.restHi = make([]int, k+1), make([]int, k+1), make([]int, k+1)
	for j := k - 1; j >= 0; j-- {
		cd := s.cands[s.stable[j]]
		s.restLoss[j] = s.restLoss[j+1] + max(0, cd.kept-cd.hi)
		s.restLo[j], s.restHi[j] = s.restLo[j+1]+cd.lo, s.restHi[j+1]+cd.hi
	}
	s.n = make([]int, len(s.cands))
	s.walk(0, s.req.Replicas, 0)
}

func (s *searcher) walk(j, left, loss int) {
	if s.exhausted || left < s.restLo[j] || left > s.restHi[j] {
		return
	}
	if s.best != nil && loss+s.restLoss[j] >= s.best.moves {
		return
	}
	if s.nodes++; s.nodes > maxSearchNodes {
		s.exhausted = true
		return
	}
	if j == len(s.stable) {
		if rulesHold(s.cands, s.req, s.n) {
			p := evalPlan(s.cands, s.req, s.n, s.stable)
			if s.best == nil || p.moves < s.best.moves || (p.moves == s.best.moves && p.gap < s.best.gap) {
				s.best = &p
			}
		}
		return
	}
	i := s.stable[j]
	cd := s.cands[i]
	hi := min(cd.hi, left)
	h := max(cd.lo, min(s.hint[i], hi))
	for d := 0; h-d >= cd.lo || h+d <= hi; d++ {
		xs := []int{h - d, h + d}
		if d == 0 {
			xs = xs[:1]
		}
		for _, x := range xs {
			if x < cd.lo || x > hi {
				continue
			}
			s.n[i] = x
			s.walk(j+1, left-x, loss+max(0, cd.kept-x))
			s.n[i] = 0
		}
	}
}

// rulesHold reports whether counts keep every rule: per-cluster bounds,
// the total, quorum and hard spread constraints.
func rulesHold(cands []*candidate, req Request, n []int) bool {
	total := 0
	region := map[string]int{}
	for i, cd := range cands {
		if n[i] < cd.lo || n[i] > cd.hi {
			return false
		}
		total += n[i]
		region[cd.region] += n[i]
	}
	if total != req.Replicas {
		return false
	}
	if req.Replicas == 0 {
		return true
	}
	switch req.Quorum.Rule {
	case NoRegionMajority:
		for _, c := range region {
			if c > ceilDiv(req.Replicas, 2)-1 {
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
		count, eligible := map[string]int{}, map[string]bool{}
		for i, cd := range cands {
			if !cd.inventory {
				continue
			}
			k := cd.domainKey(s.Topology)
			count[k] += n[i]
			eligible[k] = eligible[k] || cd.hi > 0
		}
		lo, hi, held, domains := req.Replicas, 0, 0, 0
		for d, ok := range eligible {
			if !ok {
				continue
			}
			domains++
			lo, hi = min(lo, count[d]), max(hi, count[d])
			if count[d] > 0 {
				held++
			}
		}
		if domains == 0 || hi-lo > s.MaxSkew || held < min(s.MinDomains, req.Replicas) {
			return false
		}
	}
	return true
}
