package statefulset

import "slices"

// Disruptions splits a service's allowance of voluntary disruptions over
// its slices, in proportion to their replicas, and returns each slice's
// share in the order of counts. The allowance keeps a majority of the
// replicas up: (n-1)/2 for n replicas, at least one so that a node drain
// never blocks forever. Member PodDisruptionBudgets cannot see each other,
// so the sum of the shares is the federation-wide bound.
func Disruptions(counts []int32) []int32 {
	var n int32
	for _, c := range counts {
		n += c
	}
	shares := make([]int32, len(counts))
	if n == 0 {
		return shares
	}
	allow := max((n-1)/2, 1)
	// Largest remainder: floor shares first, then the biggest remainders;
	// ties go to the earlier slice so that the split is deterministic.
	type rem struct {
		i   int
		num int32
	}
	var rems []rem
	var given int32
	for i, c := range counts {
		shares[i] = allow * c / n
		given += shares[i]
		rems = append(rems, rem{i, allow * c % n})
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return int(b.num - a.num) })
	for _, r := range rems {
		if given == allow {
			break
		}
		if shares[r.i] < counts[r.i] {
			shares[r.i]++
			given++
		}
	}
	return shares
}
