package placement

import (
	"container/heap"
	"slices"
)

// bound is an inclusive range of replica counts.
type bound struct{ lo, hi int }

func (b bound) intersect(o bound) bound { return bound{max(b.lo, o.lo), min(b.hi, o.hi)} }

// problem is the count allocation: how many replicas each candidate runs,
// within nested region, zone and cluster bounds that add up to replicas.
type problem struct {
	cands    []*candidate
	replicas int
	// regionB and zoneB bound the domains; absent means [0, replicas].
	regionB, zoneB map[string]bound
	// clusterB bounds each candidate (its lo/hi, narrowed by rules).
	clusterB []bound
	// weight is each candidate's effective weight and totalWeight their
	// sum over candidates that may hold replicas.
	weight      []int64
	totalWeight int64
	// ignoreKept drops the displaced term of the cost (rebalancing).
	ignoreKept bool
	// free is how many replicas a candidate can gain without shifting a
	// neighbour on the ordinal line; -1 means any number.
	free []int
	// rank orders equal choices: growth where it shifts nothing first.
	rank []int
	// infeasible is set by a rule that cannot hold whatever the counts.
	infeasible bool
	// spread lists levels at which a number of domains must hold replicas.
	spread []minDomains
	// regionID and zoneID number the domains; regionOf and zoneOf give
	// each candidate's; the members lists give each domain's candidates.
	regionID, zoneID           map[string]int
	regionOf, zoneOf           []int
	regionMembers, zoneMembers map[string][]int
	all                        []int
}

// minDomains asks for replicas in at least need domains of a level.
type minDomains struct {
	level Topology
	need  int
}

// price is the cost of an allocation, compared in order: replicas taken
// from clusters that may keep them, replicas that grow a cluster where it
// shifts its neighbours, then the distance from the weighted shares.
type price struct {
	displaced, shifted int
	gap                int64
}

func (a price) add(b price) price {
	return price{a.displaced + b.displaced, a.shifted + b.shifted, a.gap + b.gap}
}

func (a price) sub(b price) price {
	return price{a.displaced - b.displaced, a.shifted - b.shifted, a.gap - b.gap}
}

func (a price) less(b price) bool {
	if a.displaced != b.displaced {
		return a.displaced < b.displaced
	}
	if a.shifted != b.shifted {
		return a.shifted < b.shifted
	}
	return a.gap < b.gap
}

// cost is the price of running n replicas on candidate i. Each term is
// convex in n.
func (p *problem) cost(i, n int) price {
	var c price
	k := p.cands[i].kept
	if n < k && !p.ignoreKept {
		c.displaced = k - n
	}
	if f := p.free[i]; f >= 0 && n > k+f {
		c.shifted = n - k - f
	}
	c.gap = int64(n)*p.totalWeight - int64(p.replicas)*p.weight[i]
	if c.gap < 0 {
		c.gap = -c.gap
	}
	return c
}

// marginal is the cost of one more replica on candidate i.
func (p *problem) marginal(i, n int) price { return p.cost(i, n+1).sub(p.cost(i, n)) }

// solve allocates counts greedily: lower bounds first, from zones up to
// regions, then the rest to the cheapest candidate with room. The costs are
// separable and convex and the bounds nested, so the cheapest unit at each
// step gives a cheapest allocation. It returns nil when the bounds cannot
// be met.
func (p *problem) solve() []int {
	if p.infeasible {
		return nil
	}
	a := newAllocation(p)
	for i, b := range p.clusterB {
		if b.lo > b.hi {
			return nil
		}
		a.add(i, b.lo)
	}
	for _, z := range sortedKeys(p.zoneB) {
		if !a.fill(p.zoneMembers[z], func() bool { return a.zoneSum[p.zoneID[z]] < p.zoneB[z].lo }) {
			return nil
		}
	}
	for _, r := range sortedKeys(p.regionB) {
		if _, ok := p.regionID[r]; !ok {
			if p.regionB[r].lo > 0 {
				return nil // a region no cluster is in
			}
			continue
		}
		if !a.fill(p.regionMembers[r], func() bool { return a.regionSum[p.regionID[r]] < p.regionB[r].lo }) {
			return nil
		}
	}
	for z, s := range a.zoneSum {
		if s > a.zoneHi[z] {
			return nil
		}
	}
	for r, s := range a.regionSum {
		if s > a.regionHi[r] {
			return nil
		}
	}
	if a.total > p.replicas {
		return nil
	}
	// Spread rules with a minimum of domains: fill empty domains with
	// their cheapest replica until enough hold some.
	for _, md := range p.spread {
		held := map[string]bool{}
		for i, cd := range p.cands {
			if a.n[i] > 0 {
				held[cd.domainKey(md.level)] = true
			}
		}
		for len(held) < md.need {
			best := -1
			for i, cd := range p.cands {
				if !held[cd.domainKey(md.level)] && a.room(i) && (best < 0 || p.better(i, a.n[i], best, a.n[best])) {
					best = i
				}
			}
			if best < 0 {
				return nil
			}
			a.add(best, 1)
			held[p.cands[best].domainKey(md.level)] = true
		}
	}
	if !a.fill(p.all, func() bool { return a.total < p.replicas }) {
		return nil
	}
	return a.n
}

// allocation is the state of one greedy run, with domain sums by index.
type allocation struct {
	p                  *problem
	n                  []int
	zoneSum, regionSum []int
	zoneHi, regionHi   []int
	total              int
}

func newAllocation(p *problem) *allocation {
	a := &allocation{
		p: p, n: make([]int, len(p.cands)),
		zoneSum: make([]int, len(p.zoneID)), regionSum: make([]int, len(p.regionID)),
		zoneHi: make([]int, len(p.zoneID)), regionHi: make([]int, len(p.regionID)),
	}
	for z, id := range p.zoneID {
		a.zoneHi[id] = p.zoneBound(z).hi
	}
	for r, id := range p.regionID {
		a.regionHi[id] = p.regionBound(r).hi
	}
	return a
}

func (a *allocation) add(i, k int) {
	a.n[i] += k
	a.zoneSum[a.p.zoneOf[i]] += k
	a.regionSum[a.p.regionOf[i]] += k
	a.total += k
}

// room reports whether candidate i can take one more replica.
func (a *allocation) room(i int) bool {
	return a.n[i] < a.p.clusterB[i].hi &&
		a.zoneSum[a.p.zoneOf[i]] < a.zoneHi[a.p.zoneOf[i]] &&
		a.regionSum[a.p.regionOf[i]] < a.regionHi[a.p.regionOf[i]] &&
		a.total < a.p.replicas
}

// fill adds one replica at a time to the cheapest member with room until
// need reports false; it fails when no member has room. A member without
// room never regains it, so a heap with lazy removal serves.
func (a *allocation) fill(members []int, need func() bool) bool {
	if !need() {
		return true
	}
	h := &unitHeap{p: a.p, n: a.n}
	for _, i := range members {
		if a.room(i) {
			h.items = append(h.items, i)
		}
	}
	heap.Init(h)
	for need() {
		for h.Len() > 0 && !a.room(h.items[0]) {
			heap.Pop(h)
		}
		if h.Len() == 0 {
			return false
		}
		a.add(h.items[0], 1)
		heap.Fix(h, 0)
	}
	return true
}

// better reports whether one more unit on i (at count ni) is preferred to
// one more on j (at nj).
func (p *problem) better(i, ni, j, nj int) bool {
	ci, cj := p.marginal(i, ni), p.marginal(j, nj)
	if ci != cj {
		return ci.less(cj)
	}
	if p.rank[i] != p.rank[j] {
		return p.rank[i] < p.rank[j]
	}
	return i < j
}

func (p *problem) zoneBound(z string) bound {
	if b, ok := p.zoneB[z]; ok {
		return b
	}
	return bound{0, p.replicas}
}

func (p *problem) regionBound(r string) bound {
	if b, ok := p.regionB[r]; ok {
		return b
	}
	return bound{0, p.replicas}
}

// totalCost is the cost of a whole allocation.
func (p *problem) totalCost(n []int) price {
	var c price
	for i, k := range n {
		c = c.add(p.cost(i, k))
	}
	return c
}

// unitHeap orders candidates by the price of their next replica.
type unitHeap struct {
	p     *problem
	n     []int
	items []int
}

func (h *unitHeap) Len() int { return len(h.items) }
func (h *unitHeap) Less(a, b int) bool {
	i, j := h.items[a], h.items[b]
	return h.p.better(i, h.n[i], j, h.n[j])
}
func (h *unitHeap) Swap(a, b int) { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *unitHeap) Push(x any)    { h.items = append(h.items, x.(int)) }
func (h *unitHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
