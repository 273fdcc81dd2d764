package placement_test

import (
	"fmt"

	"github.com/fedstate/fedstate/placement"
)

func ExamplePlace() {
	in := placement.Input{
		Clusters: []placement.Cluster{
			{Name: "eu-1", Region: "eu-west", Healthy: true,
				Taints: []placement.Taint{{Key: "maintenance", Effect: placement.NoExecute}}},
			{Name: "eu-2", Region: "eu-west", Healthy: true},
			{Name: "us-1", Region: "us-east", Healthy: true},
			{Name: "ap-1", Region: "ap-south", Healthy: true},
		},
		Request: placement.Request{Replicas: 5,
			Spread: []placement.Spread{{Topology: placement.ByRegion, MaxSkew: 1}}},
		Current: []placement.Range{{Cluster: "eu-1", Start: 0, Count: 2}, {Cluster: "us-1", Start: 2, Count: 2}, {Cluster: "ap-1", Start: 4, Count: 1}},
	}
	d, err := placement.Place(in)
	if err != nil {
		panic(err)
	}
	for _, r := range d.Assignment {
		fmt.Printf("%s runs %d..%d\n", r.Cluster, r.Start, r.Start+r.Count-1)
	}
	for _, m := range d.Moves {
		fmt.Printf("move %d from %s to %s\n", m.Ordinal, m.From, m.To)
	}
	fmt.Println(d.Clusters[1].Name+":", d.Clusters[1].Notes)
	// Output:
	// eu-2 runs 0..1
	// us-1 runs 2..3
	// ap-1 runs 4..4
	// move 0 from eu-1 to eu-2
	// move 1 from eu-1 to eu-2
	// eu-1: [tainted maintenance:NoExecute (not tolerated)]
}
