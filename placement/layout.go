package placement

import (
	"sort"
)

// slot is one cluster's place on the ordinal line: cand index and count.
type slot struct{ cand, count int }

// maxFloating bounds how many clusters that run replicas today may be
// taken out of their current order at once; maxLayoutSteps bounds the
// search. Beyond them the layout keeps the current order, which the
// decision reports as not proven minimal.
const (
	maxFloating    = 4
	maxLayoutSteps = 200_000
)

// layouter finds the order of clusters on the ordinal line that keeps the
// most replicas where they are, for fixed counts.
//
// Clusters that keep replicas appear in the same relative order as today
// (two kept pieces cannot swap places), so the search walks today's
// clusters in order and decides, for each, to place it next ("anchored"),
// or to let it float; between them it may place a floating cluster or a
// new one. New clusters of the same size are interchangeable, so they are
// grouped by size. A memo on the state makes the search polynomial for a
// bounded number of floating clusters.
type layouter struct {
	cands  []*candidate
	n      []int
	anchor []int   // today's clusters with a target count, by start
	groups [][]int // new clusters by size, each in stable order
	sizes  []int
	memo   map[layoutKey]layoutResult
	// keepable[j] is the most the anchors from j on can keep.
	keepable []int
	steps    int
	budget   bool // set when maxLayoutSteps ran out
}

type layoutKey struct {
	next     int
	floating string
	fill     string
}

// layoutResult is the most replicas kept from a state, and the choice
// that keeps them: kind 0 anchors next, 1 places floating[idx], 2 places a
// new cluster of group idx, 3 floats next.
type layoutResult struct {
	kept, kind, idx int
}

// arrange returns the clusters in line order with their counts, and
// whether the order is proven to keep the most replicas.
func arrange(cands []*candidate, n []int, stable []int) ([]slot, bool) {
	l := &layouter{cands: cands, n: n, memo: map[layoutKey]layoutResult{}}
	for i, cd := range cands {
		if n[i] > 0 && cd.kept > 0 {
			l.anchor = append(l.anchor, i)
		}
	}
	sort.Slice(l.anchor, func(a, b int) bool { return cands[l.anchor[a]].start < cands[l.anchor[b]].start })
	bySize := map[int]int{}
	for _, i := range stable {
		if n[i] == 0 || cands[i].kept > 0 {
			continue
		}
		g, ok := bySize[n[i]]
		if !ok {
			g = len(l.groups)
			bySize[n[i]] = g
			l.groups = append(l.groups, nil)
			l.sizes = append(l.sizes, n[i])
		}
		l.groups[g] = append(l.groups[g], i)
	}
	fill := make([]int, len(l.groups))
	for g := range l.groups {
		fill[g] = len(l.groups[g])
	}
	l.keepable = make([]int, len(l.anchor)+1)
	for j := len(l.anchor) - 1; j >= 0; j-- {
		a := l.anchor[j]
		l.keepable[j] = l.keepable[j+1] + min(cands[a].kept, n[a])
	}
	l.search(0, nil, fill)
	if l.budget {
		return l.currentOrder(), false
	}
	return l.walk(fill), true
}

// position is where the next cluster starts in a state.
func (l *layouter) position(next int, floating, fill []int) int {
	q := 0
	for _, a := range l.anchor[:next] {
		q += l.n[a]
	}
	for _, f := range floating {
		q -= l.n[f]
	}
	for g, left := range fill {
		q += (len(l.groups[g]) - left) * l.sizes[g]
	}
	return q
}

// overlap is how many of cand i's replicas stay if it starts at q.
func (l *layouter) overlap(i, q int) int {
	cd := l.cands[i]
	lo, hi := max(q, cd.start), min(q+l.n[i], cd.start+cd.kept)
	return max(0, hi-lo)
}

// bound is the most replicas the rest of the line can keep.
func (l *layouter) bound(next int, floating []int) int {
	b := l.keepable[next]
	for _, f := range floating {
		b += min(l.cands[f].kept, l.n[f])
	}
	return b
}

func (l *layouter) key(next int, floating, fill []int) layoutKey {
	k := layoutKey{next: next}
	if len(floating) > 0 {
		b := make([]byte, 0, 4*len(floating))
		for _, f := range floating {
			b = append(b, byte(f), byte(f>>8), byte(f>>16), byte(f>>24))
		}
		k.floating = string(b)
	}
	b := make([]byte, 0, 4*len(fill))
	for _, x := range fill {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	k.fill = string(b)
	return k
}

// search returns the most replicas kept from a state, or -1 when the state
// cannot complete the line.
func (l *layouter) search(next int, floating, fill []int) int {
	done := next == len(l.anchor) && len(floating) == 0
	for _, left := range fill {
		done = done && left == 0
	}
	if done {
		return 0
	}
	k := l.key(next, floating, fill)
	if r, ok := l.memo[k]; ok {
		return r.kept
	}
	if l.steps++; l.steps > maxLayoutSteps {
		l.budget = true
		return -1
	}
	q := l.position(next, floating, fill)
	best := layoutResult{kept: -1}
	ub := l.bound(next, floating)
	try := func(kept, kind, idx int) bool {
		if kept > best.kept {
			best = layoutResult{kept: kept, kind: kind, idx: idx}
		}
		return best.kept >= ub || l.budget
	}
	stop := false
	if next < len(l.anchor) {
		a := l.anchor[next]
		if r := l.search(next+1, floating, fill); r >= 0 {
			stop = try(l.overlap(a, q)+r, 0, 0)
		}
	}
	for i := 0; !stop && i < len(floating); i++ {
		rest := append(append([]int(nil), floating[:i]...), floating[i+1:]...)
		if r := l.search(next, rest, fill); r >= 0 {
			stop = try(l.overlap(floating[i], q)+r, 1, i)
		}
	}
	for g := 0; !stop && g < len(fill); g++ {
		if fill[g] == 0 {
			continue
		}
		rest := append([]int(nil), fill...)
		rest[g]--
		if r := l.search(next, floating, rest); r >= 0 {
			stop = try(r, 2, g)
		}
	}
	if !stop && next < len(l.anchor) && len(floating) < maxFloating {
		more := append(append([]int(nil), floating...), l.anchor[next])
		if r := l.search(next+1, more, fill); r >= 0 {
			try(r, 3, 0)
		}
	}
	if !l.budget {
		l.memo[k] = best
	}
	return best.kept
}

// walk follows the memo's choices from the start and lists the slots.
func (l *layouter) walk(fill []int) []slot {
	var out []slot
	next, floating := 0, []int(nil)
	fill = append([]int(nil), fill...)
	for {
		r, ok := l.memo[l.key(next, floating, fill)]
		if !ok {
			return out
		}
		switch r.kind {
		case 0:
			a := l.anchor[next]
			out = append(out, slot{a, l.n[a]})
			next++
		case 1:
			f := floating[r.idx]
			out = append(out, slot{f, l.n[f]})
			floating = append(append([]int(nil), floating[:r.idx]...), floating[r.idx+1:]...)
		case 2:
			g := r.idx
			i := l.groups[g][len(l.groups[g])-fill[g]]
			out = append(out, slot{i, l.n[i]})
			fill[g]--
		case 3:
			floating = append(append([]int(nil), floating...), l.anchor[next])
			next++
		}
	}
}

// currentOrder is today's clusters in today's order, then the new ones.
func (l *layouter) currentOrder() []slot {
	var out []slot
	for _, a := range l.anchor {
		out = append(out, slot{a, l.n[a]})
	}
	for _, g := range l.groups {
		for _, i := range g {
			out = append(out, slot{i, l.n[i]})
		}
	}
	return out
}
