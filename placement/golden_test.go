package placement

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// scenario is one golden test: an input and, optionally, further replica
// counts planned in turn, each from the previous assignment.
type scenario struct {
	Input
	// Then are later requests' replica counts (scaling), each planned
	// with the previous decision as the current assignment.
	Then []int
	// Change describes what happens to the inventory before planning,
	// applied after the first decision when the scenario starts fresh:
	// clusters to mark unhealthy or to taint NoExecute.
	Unhealthy, Evict []string
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var sc scenario
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&sc); err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			got := runScenario(t, sc)
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if got != string(want) {
				t.Errorf("decision differs from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// runScenario plans every step of a scenario and renders them all.
func runScenario(t *testing.T, sc scenario) string {
	var b strings.Builder
	in := sc.Input
	step := func(title string) Decision {
		d, err := Place(in)
		if err != nil {
			t.Fatalf("%s: %v", title, err)
		}
		fmt.Fprintf(&b, "== %s\n", title)
		renderInput(&b, in)
		renderDecision(&b, d)
		return d
	}
	d := step("plan")
	if len(sc.Unhealthy)+len(sc.Evict) > 0 {
		in.Current = d.Assignment
		for i := range in.Clusters {
			for _, n := range sc.Unhealthy {
				if in.Clusters[i].Name == n {
					in.Clusters[i].Healthy = false
				}
			}
			for _, n := range sc.Evict {
				if in.Clusters[i].Name == n {
					in.Clusters[i].Taints = append(in.Clusters[i].Taints, Taint{Key: "fedstate.io/evacuate", Effect: NoExecute})
				}
			}
		}
		d = step(fmt.Sprintf("after %s", describeChange(sc)))
	}
	for _, r := range sc.Then {
		in.Current, in.Request.Replicas = d.Assignment, r
		d = step(fmt.Sprintf("scale to %d", r))
	}
	return b.String()
}

func describeChange(sc scenario) string {
	var parts []string
	if len(sc.Unhealthy) > 0 {
		parts = append(parts, strings.Join(sc.Unhealthy, ", ")+" unhealthy")
	}
	if len(sc.Evict) > 0 {
		parts = append(parts, strings.Join(sc.Evict, ", ")+" tainted NoExecute")
	}
	return strings.Join(parts, "; ")
}

func renderInput(b *strings.Builder, in Input) {
	b.WriteString("clusters:\n")
	for _, c := range in.Clusters {
		fmt.Fprintf(b, "  %-6s region=%s zone=%s", c.Name, c.Region, c.Zone)
		if !c.Healthy {
			b.WriteString(" UNHEALTHY")
		}
		for _, t := range c.Taints {
			fmt.Fprintf(b, " taint=%s", t)
		}
		if c.Capacity != nil {
			fmt.Fprintf(b, " capacity=%d", *c.Capacity)
		}
		for k, v := range c.Labels {
			fmt.Fprintf(b, " %s=%s", k, v)
		}
		b.WriteString("\n")
	}
	r := in.Request
	fmt.Fprintf(b, "request: replicas=%d", r.Replicas)
	for _, s := range r.Spread {
		fmt.Fprintf(b, " spread=%s/maxSkew=%d", s.Topology, s.MaxSkew)
		if s.MinDomains > 0 {
			fmt.Fprintf(b, "/minDomains=%d", s.MinDomains)
		}
		if s.Soft {
			b.WriteString("/soft")
		}
	}
	if r.Quorum.Rule != NoQuorumRule {
		fmt.Fprintf(b, " quorum=%s%s", r.Quorum.Rule, r.Quorum.Region)
	}
	if len(r.PrimaryRegions) > 0 {
		fmt.Fprintf(b, " primaryRegions=%s", strings.Join(r.PrimaryRegions, ","))
	}
	for _, bd := range r.Bounds {
		fmt.Fprintf(b, " %s[", bd.Cluster)
		var parts []string
		if bd.Min != nil {
			parts = append(parts, fmt.Sprintf("min=%d", *bd.Min))
		}
		if bd.Max != nil {
			parts = append(parts, fmt.Sprintf("max=%d", *bd.Max))
		}
		if bd.Weight != nil {
			parts = append(parts, fmt.Sprintf("weight=%d", *bd.Weight))
		}
		b.WriteString(strings.Join(parts, ",") + "]")
	}
	if in.MoveBudget > 0 {
		fmt.Fprintf(b, " moveBudget=%d", in.MoveBudget)
	}
	b.WriteString("\ncurrent: " + renderRanges(in.Current) + "\n")
}

func renderRanges(rs []Range) string {
	if len(rs) == 0 {
		return "(none)"
	}
	var parts []string
	for _, r := range rs {
		switch r.Count {
		case 0:
			continue
		case 1:
			parts = append(parts, fmt.Sprintf("%s[%d]", r.Cluster, r.Start))
		default:
			parts = append(parts, fmt.Sprintf("%s[%d-%d]", r.Cluster, r.Start, r.Start+r.Count-1))
		}
	}
	return strings.Join(parts, " ")
}

func renderDecision(b *strings.Builder, d Decision) {
	if d.Unschedulable {
		b.WriteString("UNSCHEDULABLE:\n")
		for _, r := range d.Reasons {
			fmt.Fprintf(b, "  - %s\n", r)
		}
	} else {
		fmt.Fprintf(b, "assignment: %s\n", renderRanges(d.Assignment))
		fmt.Fprintf(b, "moves (%d):", len(d.Moves))
		for _, m := range d.Moves {
			fmt.Fprintf(b, " %d:%s->%s", m.Ordinal, m.From, m.To)
		}
		fmt.Fprintf(b, "\nprimary ordinal: %d\n", d.PrimaryOrdinal)
	}
	b.WriteString("clusters:\n")
	for _, c := range d.Clusters {
		fmt.Fprintf(b, "  %-6s %d -> %d (may hold %d..%d)", c.Name, c.Current, c.Target, c.Min, c.Max)
		if len(c.Notes) > 0 {
			fmt.Fprintf(b, ": %s", strings.Join(c.Notes, "; "))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}
