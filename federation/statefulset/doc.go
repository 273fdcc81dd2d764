// Package statefulset is the hub's FederatedStatefulSet controller: it asks
// placement where every ordinal runs, renders one slice per member cluster
// (a StatefulSet with spec.ordinals.start, its headless Service and a share
// of the disruption budget), applies the slices with server-side apply,
// moves ordinals between clusters one at a time so that no replica name
// ever exists in two clusters, and reports where every replica is in the
// service's status.
//
// The pure parts — rendering (render.go), the migration step (step.go),
// disruption shares (budget.go) and conditions (conditions.go) — take
// values and return values; the Reconciler around them does the I/O
// through the member registry.
package statefulset
