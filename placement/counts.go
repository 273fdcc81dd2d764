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
	// region and zone map a candidate index to its domain keys.
	region, zone []string
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
	n := make([]int, len(p.cands))
	regionSum, zoneSum := map[string]int{}, map[string]int{}
	total := 0
	for i, b := range p.clusterB {
		if b.lo > b.hi {
			return nil
		}
		n[i] = b.lo
		regionSum[p.region[i]] += b.lo
		zoneSum[p.zone[i]] += b.lo
		total += b.lo
	}
	room := func(i int) bool {
		return n[i] < p.clusterB[i].hi &&
			zoneSum[p.zone[i]] < p.zoneBound(p.zone[i]).hi &&
			regionSum[p.region[i]] < p.regionBound(p.region[i]).hi &&
			total < p.replicas
	}
	add := func(i int) {
		n[i]++
		zoneSum[p.zone[i]]++
		regionSum[p.region[i]]++
		total++
	}
	// fill adds units to candidates picked by in until need() is false.
	fill := func(in func(i int) bool, need func() bool) bool {
		for need() {
			best := -1
			for i := range p.cands {
				if in(i) && room(i) && (best < 0 || p.better(i, n[i], best, n[best])) {
					best = i
				}
			}
			if best < 0 {
				return false
			}
			add(best)
		}
		return true
	}
	for _, z := range sortedKeys(p.zoneB) {
		if !fill(func(i int) bool { return p.zone[i] == z }, func() bool { return zoneSum[z] < p.zoneB[z].lo }) {
			return nil
		}
	}
	for _, r := range sortedKeys(p.regionB) {
		if !fill(func(i int) bool { return p.region[i] == r }, func() bool { return regionSum[r] < p.regionB[r].lo }) {
			return nil
		}
	}
	for z, s := range zoneSum {
		if s > p.zoneBound(z).hi {
			return nil
		}
	}
	for r, s := range regionSum {
		if s > p.regionBound(r).hi {
			return nil
		}
	}
	if total > p.replicas {
		return nil
	}
	// Spread rules with a minimum of domains: fill empty domains with
	// their cheapest replica until enough hold some.
	for _, md := range p.spread {
		held := map[string]bool{}
		for i, cd := range p.cands {
			if n[i] > 0 {
				held[cd.domainKey(md.level)] = true
			}
		}
		for len(held) < md.need {
			best := -1
			for i, cd := range p.cands {
				if !held[cd.domainKey(md.level)] && room(i) && (best < 0 || p.better(i, n[i], best, n[best])) {
					best = i
				}
			}
			if best < 0 {
				return nil
			}
			add(best)
			held[p.cands[best].domainKey(md.level)] = true
		}
	}
	// The rest goes through a heap: one unit at a time to the cheapest
	// candidate with room. A candidate without room never regains it.
	h := &unitHeap{p: p, n: n}
	for i := range p.cands {
		if room(i) {
			h.items = append(h.items, i)
		}
	}
	heap.Init(h)
	for total < p.replicas {
		if h.Len() == 0 {
			return nil
		}
		i := h.items[0]
		if !room(i) {
			heap.Pop(h)
			continue
		}
		add(i)
		heap.Fix(h, 0)
	}
	return n
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
