package placement

import (
	"fmt"
	"testing"
)

// benchInput is a fleet of clusters over five regions (three zones each)
// and a request spread evenly over regions with a preferred primary region.
func benchInput(clusters, replicas int) Input {
	var in Input
	for i := range clusters {
		region := fmt.Sprintf("r%d", i%5)
		in.Clusters = append(in.Clusters, Cluster{
			Name: fmt.Sprintf("c%04d", i), Region: region, Zone: fmt.Sprintf("%s-%d", region, (i/5)%3), Healthy: true,
		})
	}
	in.Request = Request{
		Replicas:       replicas,
		Spread:         []Spread{{Topology: ByRegion, MaxSkew: 1}},
		PrimaryRegions: []string{"r0"},
	}
	return in
}

// evacuateInput is benchInput already placed, with the cluster holding
// ordinal 0 gone unhealthy.
func evacuateInput(b *testing.B, clusters, replicas int) Input {
	in := benchInput(clusters, replicas)
	d, err := Place(in)
	if err != nil || d.Unschedulable {
		b.Fatalf("initial placement: %v %v", err, d.Reasons)
	}
	in.Current = d.Assignment
	for i := range in.Clusters {
		if in.Clusters[i].Name == d.Assignment[0].Cluster {
			in.Clusters[i].Healthy = false
		}
	}
	return in
}

func BenchmarkPlace(b *testing.B) {
	sizes := []struct{ clusters, replicas int }{
		{10, 5}, {100, 50}, {1000, 1000}, {100, 1000}, {1000, 100}, {300, 300},
	}
	for _, s := range sizes {
		name := fmt.Sprintf("clusters=%d/replicas=%d", s.clusters, s.replicas)
		b.Run(name, func(b *testing.B) {
			in := benchInput(s.clusters, s.replicas)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Place(in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/evacuate", func(b *testing.B) {
			in := evacuateInput(b, s.clusters, s.replicas)
			b.ReportAllocs()
			for b.Loop() {
				d, err := Place(in)
				if err != nil || d.Unschedulable || len(d.Moves) == 0 {
					b.Fatalf("evacuation: %v %+v", err, d.Reasons)
				}
			}
		})
	}
}
