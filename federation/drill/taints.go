package drill

import (
	"context"
	"fmt"
	"slices"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// taint marks every member cluster of the run's target region lost: a
// NoSchedule taint with key v1alpha1.TaintDrill and the drill's UID.
func (r *Reconciler) taint(ctx context.Context, d *v1alpha1.FailoverDrill, regions map[string]string) error {
	var mcs v1alpha1.MemberClusterList
	if err := r.Client.List(ctx, &mcs); err != nil {
		return fmt.Errorf("list MemberClusters: %w", err)
	}
	taint := v1alpha1.Taint{Key: v1alpha1.TaintDrill, Value: string(d.UID), Effect: v1alpha1.TaintNoSchedule}
	for i := range mcs.Items {
		mc := &mcs.Items[i]
		if regions[mc.Name] != d.Status.TargetRegion {
			continue
		}
		if !slices.Contains(mc.Spec.Taints, taint) {
			mc.Spec.Taints = append(mc.Spec.Taints, taint)
			if err := r.Client.Update(ctx, mc); err != nil {
				return fmt.Errorf("taint MemberCluster %s: %w", mc.Name, err)
			}
		}
		if !slices.Contains(d.Status.TaintedClusters, mc.Name) {
			d.Status.TaintedClusters = append(d.Status.TaintedClusters, mc.Name)
			slices.Sort(d.Status.TaintedClusters)
			r.normal(d, "RegionTainted", "Taint", fmt.Sprintf("MemberCluster %s of region %s tainted %s:NoSchedule", mc.Name, d.Status.TargetRegion, v1alpha1.TaintDrill))
		}
	}
	return nil
}

// untaint removes the drill's taints from every member cluster and
// returns the clusters it changed.
func (r *Reconciler) untaint(ctx context.Context, d *v1alpha1.FailoverDrill) ([]string, error) {
	var mcs v1alpha1.MemberClusterList
	if err := r.Client.List(ctx, &mcs); err != nil {
		return nil, fmt.Errorf("list MemberClusters: %w", err)
	}
	var changed []string
	for i := range mcs.Items {
		mc := &mcs.Items[i]
		kept := slices.DeleteFunc(slices.Clone(mc.Spec.Taints), func(t v1alpha1.Taint) bool {
			return t.Key == v1alpha1.TaintDrill && t.Value == string(d.UID)
		})
		if len(kept) == len(mc.Spec.Taints) {
			continue
		}
		mc.Spec.Taints = kept
		if err := r.Client.Update(ctx, mc); err != nil {
			return changed, fmt.Errorf("remove the drill's taint from MemberCluster %s: %w", mc.Name, err)
		}
		changed = append(changed, mc.Name)
		r.normal(d, "RegionRestored", "Untaint", fmt.Sprintf("Removed taint %s from MemberCluster %s", v1alpha1.TaintDrill, mc.Name))
	}
	return changed, nil
}
