package placement

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// fieldName matches the field path an invalid-input error must start with,
// such as "Request.Spread[0].MaxSkew:".
var fieldName = regexp.MustCompile(`(?m)^(placement: invalid input: )?(Clusters|Request|Current|MoveBudget)[\w.\[\]]*: `)

// FuzzPlace feeds arbitrary JSON-shaped inputs to Place: it must never
// panic, must reject invalid input with an error naming the field, and
// must otherwise return a complete assignment or an explained
// Unschedulable.
func FuzzPlace(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"Request":{"Replicas":-1,"Spread":[{"Topology":"rack","MaxSkew":0}]},"Current":[{"Cluster":"x","Start":2,"Count":1}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in Input
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		// Keep each run cheap; sizes do not change which code runs.
		if len(in.Clusters) > 12 || len(in.Current) > 12 || in.Request.Replicas > 40 {
			return
		}
		d, err := Place(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error does not wrap ErrInvalidInput: %v", err)
			}
			if !fieldName.MatchString(err.Error()) {
				t.Fatalf("error does not name a field: %v", err)
			}
			return
		}
		if d.Unschedulable {
			if len(d.Reasons) == 0 {
				t.Fatal("Unschedulable without reasons")
			}
			return
		}
		next := 0
		for _, a := range d.Assignment {
			if a.Start != next || a.Count <= 0 {
				t.Fatalf("assignment does not tile the ordinals: %+v", d.Assignment)
			}
			next += a.Count
		}
		if next != in.Request.Replicas {
			t.Fatalf("assignment covers %d of %d ordinals", next, in.Request.Replicas)
		}
	})
}

func TestInvalidInputNamesEveryField(t *testing.T) {
	in := Input{
		Clusters: []Cluster{{Name: ""}, {Name: "a", Capacity: ptr(-1), Taints: []Taint{{Key: "k", Effect: "Sometimes"}}}, {Name: "a"}},
		Request: Request{
			Replicas:    -1,
			Selector:    &Selector{MatchExpressions: []Requirement{{Key: "tier", Operator: "Near"}}},
			Tolerations: []Toleration{{Operator: Exists, Value: "v"}},
			Spread:      []Spread{{Topology: "rack", MaxSkew: 0}},
			Bounds:      []Bounds{{Cluster: "a", Min: ptr(3), Max: ptr(1)}},
			Quorum:      Quorum{Rule: MajorityIn},
		},
		Current:    []Range{{Cluster: "a", Start: 1, Count: 2}},
		MoveBudget: -1,
	}
	_, err := Place(in)
	if !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("want ErrInvalidInput, got %v", err)
	}
	for _, field := range []string{
		"Clusters[0].Name", "Clusters[1].Capacity", "Clusters[1].Taints[0].Effect", "Clusters[2].Name",
		"Request.Replicas", "Request.Selector.MatchExpressions[0].Operator", "Request.Tolerations[0].Value",
		"Request.Spread[0].Topology", "Request.Spread[0].MaxSkew", "Request.Bounds[0].Min",
		"Request.Quorum.Region", "Current[0].Start", "MoveBudget",
	} {
		if !regexp.MustCompile(`(?m)(^|: )` + regexp.QuoteMeta(field) + `: `).MatchString(err.Error()) {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
}
