package statefulset

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func TestStep(t *testing.T) {
	tests := []struct {
		name        string
		in          StepInput
		wantDesired map[string]Span
		wantMoves   []Move
		wantDone    bool
	}{{
		name:        "new service: every slice at once",
		in:          StepInput{Target: map[string]Span{"a": {0, 2}, "b": {2, 2}, "c": {4, 1}}, Replicas: 5, Budget: 1},
		wantDesired: map[string]Span{"a": {0, 2}, "b": {2, 2}, "c": {4, 1}},
		wantDone:    true,
	}, {
		name: "scale down leaves at once",
		in: StepInput{
			Current: map[string]Span{"a": {0, 3}, "b": {3, 2}, "c": {5, 2}},
			Target:  map[string]Span{"a": {0, 2}, "b": {2, 1}, "c": {3, 1}}, Replicas: 4, Budget: 1,
		},
		// a keeps 0..2 until 2 moves to b; b's 3 moves to c; 4..6 are gone.
		wantDesired: map[string]Span{"a": {0, 2}, "b": {3, 1}, "c": {5, 0}},
		wantMoves:   []Move{{Ordinal: 2, From: "a", To: "b", Phase: v1alpha1.MoveDraining}},
	}, {
		name: "scale up waits for a terminating pod of the same name elsewhere",
		in: StepInput{
			Current: map[string]Span{"a": {0, 2}, "b": {2, 1}},
			Target:  map[string]Span{"a": {0, 2}, "b": {2, 2}}, Replicas: 4, Budget: 1,
			Occupied: map[int][]string{3: {"a"}},
		},
		wantDesired: map[string]Span{"a": {0, 2}, "b": {2, 1}},
	}, {
		name: "a pod terminating in its own target cluster does not block",
		in: StepInput{
			Current: map[string]Span{"a": {0, 2}, "b": {2, 1}},
			Target:  map[string]Span{"a": {0, 2}, "b": {2, 2}}, Replicas: 4, Budget: 1,
			Occupied: map[int][]string{3: {"b"}},
		},
		wantDesired: map[string]Span{"a": {0, 2}, "b": {2, 2}},
		wantDone:    true,
	}, {
		name: "evacuate: one ordinal leaves at the boundary",
		in: StepInput{
			Current: map[string]Span{"a": {0, 2}, "b": {2, 2}},
			Target:  map[string]Span{"b": {0, 4}}, Replicas: 4, Budget: 1,
		},
		wantDesired: map[string]Span{"a": {0, 1}, "b": {2, 2}},
		wantMoves:   []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveDraining}},
	}, {
		name: "a draining move waits while its pod is still in the source",
		in: StepInput{
			Current: map[string]Span{"a": {0, 1}, "b": {2, 2}},
			Target:  map[string]Span{"b": {0, 4}}, Replicas: 4, Budget: 1,
			Moves:    []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveDraining}},
			Occupied: map[int][]string{1: {"a"}},
		},
		wantDesired: map[string]Span{"a": {0, 1}, "b": {2, 2}},
		wantMoves:   []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveDraining}},
	}, {
		name: "the data gate holds a drained move",
		in: StepInput{
			Current: map[string]Span{"a": {0, 1}, "b": {2, 2}},
			Target:  map[string]Span{"b": {0, 4}}, Replicas: 4, Budget: 1,
			Moves: []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveDraining}},
		},
		wantDesired: map[string]Span{"a": {0, 1}, "b": {2, 2}},
		wantMoves:   []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveWaitingForData}},
	}, {
		name: "data ready: the destination grows and the move starts",
		in: StepInput{
			Current: map[string]Span{"a": {0, 1}, "b": {2, 2}},
			Target:  map[string]Span{"b": {0, 4}}, Replicas: 4, Budget: 1,
			Moves:     []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveWaitingForData}},
			DataReady: map[int]bool{1: true},
		},
		wantDesired: map[string]Span{"a": {0, 1}, "b": {1, 3}},
		wantMoves:   []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveStarting}},
	}, {
		name: "a started move ends when its pod is ready, then the next begins",
		in: StepInput{
			Current: map[string]Span{"a": {0, 1}, "b": {1, 3}},
			Target:  map[string]Span{"b": {0, 4}}, Replicas: 4, Budget: 1,
			Moves: []Move{{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveStarting}},
			Ready: map[int]bool{1: true},
		},
		wantDesired: map[string]Span{"a": {0, 0}, "b": {1, 3}},
		wantMoves:   []Move{{Ordinal: 0, From: "a", To: "b", Phase: v1alpha1.MoveDraining}},
	}, {
		name: "the budget bounds moves in flight",
		in: StepInput{
			Current: map[string]Span{"a": {0, 3}, "b": {3, 3}},
			Target:  map[string]Span{"a": {0, 1}, "b": {1, 5}}, Replicas: 6, Budget: 2,
		},
		wantDesired: map[string]Span{"a": {0, 1}, "b": {3, 3}},
		wantMoves: []Move{
			{Ordinal: 1, From: "a", To: "b", Phase: v1alpha1.MoveDraining},
			{Ordinal: 2, From: "a", To: "b", Phase: v1alpha1.MoveDraining},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Step(tt.in)
			if !sameSpans(got.Desired, tt.wantDesired, 1<<30) {
				t.Errorf("Desired = %v, want %v (waiting: %v)", got.Desired, tt.wantDesired, got.Waiting)
			}
			if !slices.Equal(got.Moves, tt.wantMoves) {
				t.Errorf("Moves = %v, want %v", got.Moves, tt.wantMoves)
			}
			if got.Done != tt.wantDone {
				t.Errorf("Done = %v, want %v", got.Done, tt.wantDone)
			}
		})
	}
}

// TestStepConverges drives Step against a simulated federation where pods
// linger a random number of rounds after leaving their slice, from random
// contiguous assignments to random targets, and checks on every round that
// no ordinal joins a slice while another cluster holds or may hold its pod,
// that the budget bounds the moves (a swap of slices may go one over the
// budget), and that the target is reached.
func TestStepConverges(t *testing.T) {
	for seed := range uint64(100) {
		stepConverges(t, seed)
	}
}

func stepConverges(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	clusters := []string{"a", "b", "c", "d"}
	for iter := range 1000 {
		nc := 2 + rng.IntN(3)
		cur, from := randomAssignment(rng, clusters[:nc], rng.IntN(9))
		tgt, to := randomAssignment(rng, clusters[:nc], 1+rng.IntN(9))
		budget := 1 + rng.IntN(3)
		name := fmt.Sprintf("seed %d case %d: %v (%d) -> %v (%d), budget %d", seed, iter, cur, from, tgt, to, budget)
		pods := map[int][]string{}
		for c, s := range cur {
			for k := s.Start; k < s.end(); k++ {
				pods[k] = append(pods[k], c)
			}
		}
		ready := map[int]bool{}
		for k := range pods {
			ready[k] = true
		}
		in := StepInput{Current: cur, Target: tgt, Replicas: to, Budget: budget}
		for round := 0; ; round++ {
			if round > 40*(from+to+2) {
				t.Fatalf("%s: no convergence; last %v moves %v", name, in.Current, in.Moves)
			}
			in.Occupied, in.Ready, in.DataReady = pods, ready, map[int]bool{}
			for _, m := range in.Moves {
				in.DataReady[m.Ordinal] = rng.IntN(3) > 0
			}
			res := Step(in)
			for b, s := range res.Desired {
				for k := s.Start; k < s.end(); k++ {
					if was, ok := in.Current[b]; ok && was.has(k) {
						continue
					}
					if others := without(pods[k], b); len(others) > 0 {
						t.Fatalf("%s: round %d adds %d to %s while its pod is in %v", name, round, k, b, others)
					}
					for c, o := range res.Desired {
						if c != b && o.has(k) {
							t.Fatalf("%s: round %d: %d in %s and %s", name, round, k, b, c)
						}
					}
				}
			}
			if len(res.Moves) > budget+largest(cur) {
				t.Fatalf("%s: %d moves in flight, budget %d", name, len(res.Moves), budget)
			}
			if res.Done {
				break
			}
			// Pods of desired ordinals exist (ready from their second
			// round); pods outside their slice vanish with probability 1/2.
			next, nextReady := map[int][]string{}, map[int]bool{}
			for c, s := range res.Desired {
				for k := s.Start; k < s.end(); k++ {
					next[k] = append(next[k], c)
					nextReady[k] = slices.Contains(pods[k], c)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(pods)) {
				for _, c := range pods[k] {
					if !slices.Contains(next[k], c) && rng.IntN(2) == 0 {
						next[k] = append(next[k], c)
					}
				}
			}
			pods, ready = next, nextReady
			in.Current, in.Moves = res.Desired, res.Moves
		}
	}
}

// largest is the size of the largest span.
func largest(m map[string]Span) int {
	n := 1
	for _, s := range m {
		n = max(n, s.Count)
	}
	return n
}

// randomAssignment cuts 0..n-1 into contiguous spans over a random order
// of a random subset of clusters.
func randomAssignment(rng *rand.Rand, clusters []string, n int) (map[string]Span, int) {
	order := slices.Clone(clusters)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	out := map[string]Span{}
	start := 0
	for i, c := range order {
		if start == n {
			break
		}
		count := n - start
		if i < len(order)-1 {
			count = rng.IntN(n - start + 1)
		}
		if count > 0 {
			out[c] = Span{Start: start, Count: count}
			start += count
		}
	}
	return out, n
}
