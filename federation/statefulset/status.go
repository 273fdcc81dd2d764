package statefulset

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// setStatus writes what the reconcile saw and did into fss.Status.
func (r *Reconciler) setStatus(fss *v1alpha1.FederatedStatefulSet, p *plan, at time.Time) {
	st := &fss.Status
	n := int(fss.Spec.Replicas)
	desired := p.step.Desired

	holder := map[int]string{}
	var ordinals []v1alpha1.OrdinalRange
	for c, s := range desired {
		if s.Count == 0 {
			continue
		}
		ordinals = append(ordinals, v1alpha1.OrdinalRange{Cluster: c, Start: int32(s.Start), Count: int32(s.Count)})
		for k := s.Start; k < s.end(); k++ {
			holder[k] = c
		}
	}
	slices.SortFunc(ordinals, func(a, b v1alpha1.OrdinalRange) int { return int(a.Start - b.Start) })
	st.Ordinals = ordinals

	moveTo := map[int]string{}
	for _, m := range p.step.Moves {
		moveTo[m.Ordinal] = m.To
	}
	previous := map[int32]v1alpha1.ReplicaStatus{}
	for _, rs := range st.ReplicaStatuses {
		previous[rs.Ordinal] = rs
	}
	perCluster := map[string]*v1alpha1.ClusterReplicaStatus{}
	var replicas []v1alpha1.ReplicaStatus
	var notReady []string
	ready, placed := 0, 0
	for k := range n {
		c, held := holder[k]
		rs := v1alpha1.ReplicaStatus{Ordinal: int32(k), Cluster: c}
		if !held {
			rs.Cluster = moveTo[k]
		}
		if m := p.members[c]; held && m != nil && !m.reachable() {
			if prev, ok := previous[int32(k)]; ok && prev.Cluster == c {
				rs = prev
			}
		} else if held && m != nil {
			if pod := m.pods[k]; pod != nil && pod.DeletionTimestamp == nil {
				rs.PodIP, rs.Ready = pod.Status.PodIP, podReady(pod)
			}
		}
		if prev, ok := previous[int32(k)]; ok && prev.Cluster == rs.Cluster {
			rs.Role, rs.LagBytes = prev.Role, prev.LagBytes
		}
		if held {
			placed++
			cs := perCluster[c]
			if cs == nil {
				cs = &v1alpha1.ClusterReplicaStatus{Cluster: c}
				if m := p.members[c]; m != nil && m.cluster != nil {
					cs.Region = m.cluster.Spec.Region
				}
				perCluster[c] = cs
			}
			cs.Replicas++
			if rs.Ready {
				cs.ReadyReplicas++
			}
		}
		if rs.Ready {
			ready++
		} else {
			notReady = append(notReady, fmt.Sprintf("%s-%d (%s)", fss.Name, k, orNone(rs.Cluster)))
		}
		replicas = append(replicas, rs)
	}
	st.ReplicaStatuses = replicas
	st.Clusters = nil
	for _, c := range slices.Sorted(maps.Keys(perCluster)) {
		st.Clusters = append(st.Clusters, *perCluster[c])
	}
	st.Replicas, st.ReadyReplicas = int32(placed), int32(ready)

	since := map[int32]v1alpha1.OrdinalMove{}
	for _, m := range st.Moves {
		since[m.Ordinal] = m
	}
	st.Moves = nil
	for _, m := range p.step.Moves {
		om := v1alpha1.OrdinalMove{Ordinal: int32(m.Ordinal), From: m.From, To: m.To, Phase: m.Phase, Since: now(at)}
		if prev, ok := since[om.Ordinal]; ok && prev.Phase == om.Phase && prev.Since != nil {
			om.Since = prev.Since
		}
		st.Moves = append(st.Moves, om)
	}

	h := health{
		Replicas: n, Ready: ready, NotReady: notReady, Invalid: p.invalid,
		Frozen: p.frozen, ApplyFailed: p.applyErr, Moves: p.step.Moves, Waiting: p.step.Waiting, Done: p.step.Done,
	}
	if d := p.decision; d != nil {
		if d.Unschedulable {
			h.Unschedulable = d.Reasons
		} else {
			st.Target = nil
			for _, rg := range d.Assignment {
				st.Target = append(st.Target, v1alpha1.OrdinalRange{Cluster: rg.Cluster, Start: int32(rg.Start), Count: int32(rg.Count)})
			}
		}
		var parts []string
		for _, rg := range d.Assignment {
			parts = append(parts, fmt.Sprintf("%s %s", rg.Cluster, span(rg.Start, rg.Count)))
		}
		h.Assignment = strings.Join(parts, ", ")
	}
	for _, c := range conditions(h) {
		c.ObservedGeneration = fss.Generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
	if len(p.frozen) == 0 && p.invalid == nil && len(p.applyErr) == 0 && p.decision != nil && !p.decision.Unschedulable {
		st.ObservedGeneration = fss.Generation
	}

	c := counts{replicas: map[string]int{}, ready: map[string]int{}, moves: len(p.step.Moves)}
	for name, cs := range perCluster {
		c.replicas[name], c.ready[name] = int(cs.Replicas), int(cs.ReadyReplicas)
	}
	r.metrics.set(types.NamespacedName{Namespace: fss.Namespace, Name: fss.Name}, c)
}

// patchStatus writes the status if it changed.
func (r *Reconciler) patchStatus(ctx context.Context, before, after *v1alpha1.FederatedStatefulSet) error {
	if equality.Semantic.DeepEqual(before.Status, after.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patch status of %s/%s: %w", after.Namespace, after.Name, err)
	}
	return nil
}

func span(start, count int) string {
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d-%d", start, start+count-1)
}

func orNone(s string) string {
	if s == "" {
		return "no cluster"
	}
	return s
}
