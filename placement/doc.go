// Package placement decides which member cluster runs which replica of a
// stateful service. It is a pure function, Place: an inventory of clusters,
// a request and today's assignment in, a target assignment, the moves to
// get there and a diagnosis out. It reads no clock, does no I/O and imports
// no Kubernetes, etcd or gossip library; the same input always gives the
// same decision.
//
// # The model
//
// Replicas have global ordinals 0..replicas-1 that stay the same wherever a
// replica runs. The ordinals are cut into contiguous ranges, one per
// cluster, so that each cluster runs one StatefulSet slice whose
// spec.ordinals.start is the start of its range. A replica that changes
// cluster is a move: its data has to be copied, so moves are expensive.
//
// Place decides, in this order of precedence:
//
//  1. Rules. A cluster may hold replicas only when it is healthy, matches
//     the selector and tolerates its NoExecute taints; an untolerated
//     NoSchedule taint lets it keep what it runs but take no more; Max,
//     Min and Capacity bound it further. Hard spread constraints keep the
//     replica counts of eligible regions, zones or clusters within MaxSkew
//     of each other and spread over MinDomains domains; NoRegionMajority
//     keeps every region at most ceil(R/2)-1 replicas (losing any one
//     region leaves a majority), MajorityIn keeps floor(R/2)+1 in one.
//  2. Fewest moves over every assignment that keeps the rules.
//  3. Weights: counts as close to the weighted shares as integers allow.
//     Weights never cause a move by themselves unless MoveBudget allows
//     that many extra moves to rebalance.
//  4. A replica in the first preferred primary region, and ranges laid out
//     with the preferred regions first, so that ordinal 0 lands there.
//  5. Cluster names break the remaining ties.
//
// When no assignment keeps every rule the decision is Unschedulable, with
// reasons a person can act on, and the current assignment stays as it is;
// there is never a silent partial answer.
//
// # How
//
// The counts come from a greedy allocation over nested bounds (cluster,
// zone, region, total) with a separable convex price per cluster:
// replicas taken from a cluster that may keep them, then replicas that grow
// a cluster in the middle of the line (which shifts its neighbours), then
// the distance from the weighted share. Each hard spread constraint is
// turned into bounds [m, m+MaxSkew] per domain for the few floors m that
// can add up. The displaced replicas of that allocation are a lower bound
// on the moves; when the layout reaches it, the decision is optimal. Else
// a branch-and-bound search over the counts finds fewer moves. The layout
// for given counts is an exact search over cluster orders: clusters that
// keep replicas keep their relative order, so it walks today's order and
// decides where new or displaced clusters fit, with a memo on the state.
//
// # Example
//
// Five replicas run as eu-1[0-1] us-1[2-3] ap-1[4] and eu-1 is tainted
// NoExecute for maintenance, with a second cluster eu-2 in eu-west and a
// region spread with MaxSkew 1:
//
//	in := placement.Input{
//		Clusters: []placement.Cluster{
//			{Name: "eu-1", Region: "eu-west", Healthy: true,
//				Taints: []placement.Taint{{Key: "maintenance", Effect: placement.NoExecute}}},
//			{Name: "eu-2", Region: "eu-west", Healthy: true},
//			{Name: "us-1", Region: "us-east", Healthy: true},
//			{Name: "ap-1", Region: "ap-south", Healthy: true},
//		},
//		Request: placement.Request{Replicas: 5,
//			Spread: []placement.Spread{{Topology: placement.ByRegion, MaxSkew: 1}}},
//		Current: []placement.Range{{"eu-1", 0, 2}, {"us-1", 2, 2}, {"ap-1", 4, 1}},
//	}
//	d, err := placement.Place(in)
//
// eu-1 must give its two replicas away and eu-west must keep 1 or 2 of the
// five (skew 1 against us-east's 2 and ap-south's 1). eu-2 is new, so it
// can take ordinals 0 and 1 in place without shifting anyone: the decision
// is eu-2[0-1] us-1[2-3] ap-1[4] with two moves, 0 and 1 from eu-1 to eu-2,
// and the report for eu-1 says "tainted maintenance:NoExecute (not
// tolerated)". ExamplePlace runs this example.
package placement
