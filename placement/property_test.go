package placement

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// checkAgainstReference plans in and compares the decision with the
// brute-force reference.
func checkAgainstReference(t *testing.T, in Input) {
	t.Helper()
	d, err := Place(in)
	if err != nil {
		t.Fatalf("Place: %v\ninput: %+v", err, in)
	}
	again, _ := Place(in)
	if !reflect.DeepEqual(d, again) {
		t.Fatalf("Place is not deterministic\ninput: %+v", in)
	}
	rcs := refClusters(in)
	feasible, minMoves := false, -1
	refCompositions(len(rcs), in.Request.Replicas, func(n []int) {
		if !refValid(rcs, in.Request, n) {
			return
		}
		feasible = true
		if m := refMinMoves(rcs, n); minMoves < 0 || m < minMoves {
			minMoves = m
		}
	})
	if d.Unschedulable != !feasible {
		t.Fatalf("Unschedulable = %t, reference finds an assignment: %t\nreasons: %v\ninput: %+v", d.Unschedulable, feasible, d.Reasons, in)
	}
	if d.Unschedulable {
		if len(d.Reasons) == 0 {
			t.Fatalf("Unschedulable without reasons\ninput: %+v", in)
		}
		return
	}
	// Every ordinal exactly once, in contiguous ranges, one per cluster.
	counts := make([]int, len(rcs))
	pos := map[string]int{}
	for i, rc := range rcs {
		pos[rc.name] = i
	}
	next := 0
	for _, a := range d.Assignment {
		if a.Start != next || a.Count <= 0 {
			t.Fatalf("assignment does not tile the ordinals: %+v\ninput: %+v", d.Assignment, in)
		}
		i, ok := pos[a.Cluster]
		if !ok || counts[i] != 0 {
			t.Fatalf("cluster %q unknown or given two ranges: %+v", a.Cluster, d.Assignment)
		}
		counts[i] = a.Count
		next += a.Count
	}
	if next != in.Request.Replicas {
		t.Fatalf("assignment covers %d ordinals, want %d: %+v", next, in.Request.Replicas, d.Assignment)
	}
	if !refValid(rcs, in.Request, counts) {
		t.Fatalf("assignment breaks a rule: %+v\ninput: %+v", d.Assignment, in)
	}
	if len(d.Moves) != minMoves {
		t.Fatalf("%d moves, the fewest over every valid assignment is %d: %+v moves %+v\ninput: %+v", len(d.Moves), minMoves, d.Assignment, d.Moves, in)
	}
	if !d.MinimalMoves {
		t.Fatalf("layout search ran out of steps on a small input: %+v", in)
	}
	// Planning again from the decision, nothing else changed, moves nothing.
	steady := in
	steady.Current = d.Assignment
	replan, err := Place(steady)
	if err != nil || replan.Unschedulable || len(replan.Moves) != 0 || !reflect.DeepEqual(replan.Assignment, d.Assignment) {
		t.Fatalf("planning again from the decision changes it: %+v moves %+v (err %v, reasons %v)\ninput: %+v", replan.Assignment, replan.Moves, err, replan.Reasons, steady)
	}
}

func TestPlaceAgreesWithBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		checkAgainstReference(t, randomInput(r, 1, 5, 0, 8))
	}
}

func TestPlaceAgreesWithBruteForceOnMixedSizes(t *testing.T) {
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 9))
		for range 2000 {
			checkAgainstReference(t, randomInput(r, 1, 6, 0, 12))
		}
	}
}

func TestPlaceAgreesWithBruteForceAtSixClusters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 400 {
		checkAgainstReference(t, randomInput(r, 6, 6, 8, 12))
	}
}
