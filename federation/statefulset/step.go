package statefulset

import (
	"fmt"
	"maps"
	"slices"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// Span is a contiguous range of ordinals: Start..Start+Count-1. A slice
// with Count 0 runs nothing.
type Span struct {
	Start, Count int
}

func (s Span) end() int { return s.Start + s.Count }

func (s Span) has(k int) bool { return k >= s.Start && k < s.end() }

// Move is one ordinal on its way from one cluster to another.
type Move struct {
	Ordinal  int
	From, To string
	Phase    v1alpha1.MovePhase
}

// StepInput is what one migration step decides from.
type StepInput struct {
	// Current is the range each cluster's slice runs now, as last applied.
	Current map[string]Span
	// Target is placement's assignment.
	Target map[string]Span
	// Replicas is the service's replica count; ordinals at or above it
	// leave their slices at once.
	Replicas int
	// Moves are the moves in flight, from the service's status.
	Moves []Move
	// Occupied names, per ordinal, the clusters where a pod of that name
	// exists or may still exist (its slice has not yet observed a change).
	Occupied map[int][]string
	// DataReady is the data gate's verdict for ordinals that move.
	DataReady map[int]bool
	// Ready is true for ordinals whose pod is ready in its cluster.
	Ready map[int]bool
	// Budget is how many moves may be in flight at once (at least 1).
	Budget int
}

// StepResult is the next state of the slices.
type StepResult struct {
	// Desired is the range each cluster's slice should run now.
	Desired map[string]Span
	// Moves are the moves in flight after this step.
	Moves []Move
	// Waiting says, per held-back ordinal, what it waits for.
	Waiting []string
	// Done is true when Desired is the target and no move is in flight.
	Done bool
}

// Step advances a service's slices one step towards the target without
// ever letting an ordinal run in two clusters: ordinals at or above the
// replica count leave at once; an ordinal joins its target slice only when
// no other cluster holds or may hold its pod, when the data gate passed if
// it moved, and at a boundary of the target slice (slices stay
// contiguous); ordinals that change cluster leave their source slice at a
// boundary, one move per unit of budget, lowest ordinal first. Step is
// pure and deterministic.
func Step(in StepInput) StepResult {
	desired := make(map[string]Span, len(in.Current)+len(in.Target))
	for c, s := range in.Current {
		if s.end() > in.Replicas {
			s.Count = max(in.Replicas-s.Start, 0)
		}
		desired[c] = s
	}
	holder := map[int]string{}
	for c, s := range desired {
		for k := s.Start; k < s.end(); k++ {
			holder[k] = c
		}
	}
	target := map[int]string{}
	for c, s := range in.Target {
		for k := s.Start; k < s.end() && k < in.Replicas; k++ {
			target[k] = c
		}
	}

	moves := map[int]*Move{}
	for _, m := range in.Moves {
		held := holder[m.Ordinal]
		switch {
		case m.Ordinal >= in.Replicas || target[m.Ordinal] != m.To:
			// Scaled away or re-targeted: no longer a move.
		case held == m.To && in.Ready[m.Ordinal]:
			// Arrived and ready: done.
		case held == m.To || held == "":
			moves[m.Ordinal] = &Move{Ordinal: m.Ordinal, From: m.From, To: m.To, Phase: m.Phase}
		}
	}

	var waiting, blocked []string
	for changed := true; changed; {
		changed = false
		waiting, blocked = waiting[:0], blocked[:0]
		for k := range in.Replicas {
			if _, held := holder[k]; held {
				continue
			}
			b := target[k]
			m := moves[k]
			if others := without(in.Occupied[k], b); len(others) > 0 {
				if m != nil {
					m.Phase = v1alpha1.MoveDraining
				}
				waiting = append(waiting, fmt.Sprintf("ordinal %d waits for its pod to leave %v", k, others))
				continue
			}
			if m != nil && !in.DataReady[k] {
				m.Phase = v1alpha1.MoveWaitingForData
				waiting = append(waiting, fmt.Sprintf("ordinal %d waits for its data in %s", k, b))
				continue
			}
			s := desired[b]
			lo, hi, planned := plannedHull(desired, holder, target, moves, b)
			if s.Count > 0 && k != s.Start-1 && k != s.end() {
				if m != nil && !keepsAny(s, target, b) {
					blocked = append(blocked, b)
				}
				waiting = append(waiting, fmt.Sprintf("ordinal %d waits for %s's slice to reach it", k, b))
				continue
			}
			if m == nil && planned && k != lo-1 && k != hi {
				waiting = append(waiting, fmt.Sprintf("ordinal %d waits for %s's slice to reach it", k, b))
				continue
			}
			desired[b] = grow(s, k)
			holder[k] = b
			if m != nil {
				m.Phase = v1alpha1.MoveStarting
			}
			changed = true
		}
	}

	start := func(k int, from string) {
		desired[from] = shrink(desired[from], k)
		delete(holder, k)
		moves[k] = &Move{Ordinal: k, From: from, To: target[k], Phase: v1alpha1.MoveDraining}
		waiting = append(waiting, fmt.Sprintf("ordinal %d waits for its pod to leave [%s]", k, from))
	}
	budget := max(in.Budget, 1)
	for len(moves) < budget {
		k, from, ok := nextMove(desired, holder, target, moves, true)
		if !ok {
			k, from, ok = nextMove(desired, holder, target, moves, false)
		}
		if !ok {
			break
		}
		start(k, from)
	}
	// When no move in flight can finish by itself — each waits for its
	// slice to shed ordinals that leave for elsewhere, as when two slices
	// trade places — and no move could join its slice at once, one move
	// starts from the smallest slice that blocks another, emptying it;
	// this may go over the budget (a swap needs the replicas of the smaller
	// slice in flight at once), and only while nothing else can move.
	if len(blocked) == len(moves) {
		if k, from, ok := nextMove(desired, holder, target, moves, true); ok {
			start(k, from)
		} else if k, from, ok := swapMove(desired, holder, target); ok {
			start(k, from)
		}
	}

	out := StepResult{Desired: desired, Waiting: waiting}
	for _, k := range slices.Sorted(maps.Keys(moves)) {
		out.Moves = append(out.Moves, *moves[k])
	}
	out.Done = len(out.Moves) == 0 && sameSpans(desired, in.Target, in.Replicas)
	return out
}

// nextMove picks the lowest ordinal that sits at a boundary of a slice it
// must leave and that its target slice can take: with joinable, at once
// (the slice holds nothing or the ordinal touches it); without, once the
// slice has shed what leaves it (the ordinal touches the hull of what the
// slice keeps and what is on the way to it).
func nextMove(desired map[string]Span, holder, target map[int]string, moves map[int]*Move, joinable bool) (int, string, bool) {
	for _, k := range slices.Sorted(maps.Keys(holder)) {
		from, to := holder[k], target[k]
		if to == "" || to == from {
			continue
		}
		if s := desired[from]; k != s.Start && k != s.end()-1 {
			continue
		}
		if d := desired[to]; joinable && d.Count > 0 && k != d.Start-1 && k != d.end() {
			continue
		}
		if !joinable && desired[to].Count > 0 && !keepsAny(desired[to], target, to) {
			// The slice must first shed what it holds; a move parked
			// there would hold the budget while it waits.
			continue
		}
		if lo, hi, planned := plannedHull(desired, holder, target, moves, to); !planned || k == lo-1 || k == hi {
			return k, from, true
		}
	}
	return 0, "", false
}

// swapMove picks, from the smallest slice that holds only ordinals
// leaving it, the lowest boundary ordinal whose target slice holds only
// ordinals leaving it too.
func swapMove(desired map[string]Span, holder, target map[int]string) (int, string, bool) {
	best, bestFrom, found := 0, "", false
	for _, k := range slices.Sorted(maps.Keys(holder)) {
		from, to := holder[k], target[k]
		if to == "" || to == from || keepsAny(desired[from], target, from) {
			continue
		}
		if s := desired[from]; k != s.Start && k != s.end()-1 {
			continue
		}
		if d := desired[to]; d.Count == 0 || keepsAny(d, target, to) {
			continue
		}
		if !found || desired[from].Count < desired[bestFrom].Count {
			best, bestFrom, found = k, from, true
		}
	}
	return best, bestFrom, found
}

// keepsAny reports whether slice s of cluster c holds an ordinal that
// stays there.
func keepsAny(s Span, target map[int]string, c string) bool {
	for k := s.Start; k < s.end(); k++ {
		if target[k] == c {
			return true
		}
	}
	return false
}

// plannedHull is the range of the ordinals a slice keeps together with
// those on their way to it; Step keeps that set contiguous. planned is false when
// the slice holds nothing and nothing is on the way.
func plannedHull(desired map[string]Span, holder, target map[int]string, moves map[int]*Move, to string) (lo, hi int, planned bool) {
	for k := desired[to].Start; k < desired[to].end(); k++ {
		if holder[k] != to || target[k] != to {
			continue
		}
		if !planned {
			lo, hi, planned = k, k+1, true
		} else {
			lo, hi = min(lo, k), max(hi, k+1)
		}
	}
	for _, m := range moves {
		if m.To != to || holder[m.Ordinal] == to {
			continue
		}
		if !planned {
			lo, hi, planned = m.Ordinal, m.Ordinal+1, true
		} else {
			lo, hi = min(lo, m.Ordinal), max(hi, m.Ordinal+1)
		}
	}
	return lo, hi, planned
}

// grow adds k, which is adjacent to s or s is empty, to s.
func grow(s Span, k int) Span {
	switch {
	case s.Count == 0:
		return Span{Start: k, Count: 1}
	case k == s.Start-1:
		return Span{Start: k, Count: s.Count + 1}
	default:
		return Span{Start: s.Start, Count: s.Count + 1}
	}
}

// shrink removes k, which is at a boundary of s, from s.
func shrink(s Span, k int) Span {
	if k == s.Start {
		return Span{Start: s.Start + 1, Count: s.Count - 1}
	}
	return Span{Start: s.Start, Count: s.Count - 1}
}

func without(cs []string, c string) []string {
	var out []string
	for _, x := range cs {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

// sameSpans reports whether the non-empty spans of a equal those of b,
// with b cut at replicas.
func sameSpans(a, b map[string]Span, replicas int) bool {
	norm := func(m map[string]Span) map[string]Span {
		out := map[string]Span{}
		for c, s := range m {
			if s.end() > replicas {
				s.Count = max(replicas-s.Start, 0)
			}
			if s.Count > 0 {
				out[c] = s
			}
		}
		return out
	}
	return maps.Equal(norm(a), norm(b))
}
