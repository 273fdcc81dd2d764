package statefulset

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/federation"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/placement"
)

// waitRetry is how soon a service whose moves wait for the data gate, or
// for something no watch reports, is looked at again.
const waitRetry = 5 * time.Second

// plan is one reconcile's view and decision for a service.
type plan struct {
	members  map[string]*member
	current  map[string]Span
	decision *placement.Decision // nil when frozen or invalid
	invalid  error               // placement rejected the input
	frozen   []string            // members holding ordinals that cannot be reached
	step     StepResult
	applyErr map[string]error
}

// converge computes the next step of a service and applies it.
func (r *Reconciler) converge(ctx context.Context, fss *v1alpha1.FederatedStatefulSet) (ctrl.Result, error) {
	p, err := r.plan(ctx, fss)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.apply(ctx, fss, p)
	before := fss.Status.DeepCopy()
	r.setStatus(fss, p, time.Now())
	for _, n := range transitions(before, &fss.Status) {
		r.Recorder.Eventf(fss, nil, n.kind, n.reason, n.action, "%s", n.message)
	}
	if p.decision != nil && !p.step.Done {
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	return ctrl.Result{}, nil
}

// plan observes the members and decides the next step.
func (r *Reconciler) plan(ctx context.Context, fss *v1alpha1.FederatedStatefulSet) (*plan, error) {
	var list v1alpha1.MemberClusterList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list MemberClusters: %w", err)
	}
	p := &plan{members: map[string]*member{}, current: map[string]Span{}, applyErr: map[string]error{}}
	for i := range list.Items {
		p.members[list.Items[i].Name] = &member{name: list.Items[i].Name, cluster: &list.Items[i]}
	}
	for _, o := range fss.Status.Ordinals {
		if _, known := p.members[o.Cluster]; !known {
			// Unjoined: its objects are beyond reach; its ordinals are
			// placed again.
			continue
		}
		p.current[o.Cluster] = Span{Start: int(o.Start), Count: int(o.Count)}
	}
	moves := movesOf(fss.Status.Moves)

	// Read from the caches first; read live when an ordinal is about to
	// join a slice after having run elsewhere, so that no stale cache can
	// hide its pod.
	n := int(fss.Spec.Replicas)
	live := false
	if len(fss.Status.Ordinals) > 0 || len(moves) > 0 {
		held := map[int]bool{}
		for _, s := range p.current {
			for k := s.Start; k < s.end(); k++ {
				held[k] = true
			}
		}
		for k := range n {
			live = live || !held[k]
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.members)) {
		r.observe(ctx, fss, p.members[name], live)
	}
	for _, c := range involved(p.current, moves) {
		if m, ok := p.members[c]; ok && !m.reachable() {
			p.frozen = append(p.frozen, c)
		}
	}
	if len(p.frozen) > 0 {
		// An unreachable member never causes moves or deletions: keep
		// every slice as it is until it returns.
		p.step = StepResult{Desired: maps.Clone(p.current), Moves: moves}
		return p, nil
	}

	in := placement.Input{Request: federation.PlacementRequest(&fss.Spec)}
	for _, name := range slices.Sorted(maps.Keys(p.members)) {
		in.Clusters = append(in.Clusters, federation.PlacementCluster(p.members[name].cluster, nil))
	}
	// Placement plans from the last target while a change is under way
	// (the slices then have ordinals in flight and do not tile), and from
	// the slices once they reached it. Planning again from its own
	// decision moves nothing, so a change under way keeps its course
	// unless the spec or the inventory changed.
	base := fss.Status.Target
	if len(base) == 0 {
		base = fss.Status.Ordinals
	}
	for _, o := range base {
		if o.Count > 0 {
			in.Current = append(in.Current, placement.Range{Cluster: o.Cluster, Start: int(o.Start), Count: int(o.Count)})
		}
	}
	slices.SortFunc(in.Current, func(a, b placement.Range) int { return a.Start - b.Start })
	d, err := placement.Place(in)
	if err != nil {
		p.invalid = err
		p.step = StepResult{Desired: maps.Clone(p.current), Moves: moves}
		return p, nil
	}
	p.decision = &d
	if d.Unschedulable {
		// Nothing already running is touched.
		p.step = StepResult{Desired: maps.Clone(p.current), Moves: moves}
		return p, nil
	}
	target := map[string]Span{}
	for _, rg := range d.Assignment {
		target[rg.Cluster] = Span{Start: rg.Start, Count: rg.Count}
	}
	step := StepInput{
		Current: p.current, Target: target, Replicas: n, Moves: moves,
		Occupied: map[int][]string{}, DataReady: map[int]bool{}, Ready: map[int]bool{},
		Budget: int(max(fss.Spec.Placement.MaxConcurrentMoves, 1)),
	}
	moving := map[int]string{}
	for _, mv := range moves {
		moving[mv.Ordinal] = mv.To
	}
	for _, name := range slices.Sorted(maps.Keys(p.members)) {
		m := p.members[name]
		for k, pod := range m.pods {
			step.Occupied[k] = append(step.Occupied[k], name)
			if p.current[name].has(k) && podReady(pod) {
				step.Ready[k] = true
				if to, ok := moving[k]; ok && to == name {
					seeded, err := r.Gate.Seeded(ctx, fss, k, name)
					if err != nil {
						ctrl.LoggerFrom(ctx).Error(err, "Data gate failed", "ordinal", k, "to", name)
					}
					step.Ready[k] = seeded && err == nil
				}
			}
		}
		if !m.settled(r.appliedGeneration(name, fss)) {
			// Its controller has not seen the slice's latest spec and may
			// still create a pod of any ordinal an earlier spec held:
			// nothing joins another slice until it has.
			for k := range n {
				if !slices.Contains(step.Occupied[k], name) {
					step.Occupied[k] = append(step.Occupied[k], name)
				}
			}
		}
	}
	for _, mv := range moves {
		if len(without(step.Occupied[mv.Ordinal], mv.To)) > 0 {
			continue
		}
		ok, err := r.Gate.DataReady(ctx, fss, mv.Ordinal, mv.From, mv.To)
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Data gate failed", "ordinal", mv.Ordinal, "from", mv.From, "to", mv.To)
		}
		step.DataReady[mv.Ordinal] = ok && err == nil
	}
	p.step = Step(step)
	ctrl.LoggerFrom(ctx).V(1).Info("Step", "current", p.current, "target", target, "desired", p.step.Desired,
		"moves", p.step.Moves, "occupied", step.Occupied, "live", live)
	return p, nil
}

// involved lists the clusters that hold ordinals or take part in a move.
func involved(current map[string]Span, moves []Move) []string {
	set := map[string]bool{}
	for c, s := range current {
		if s.Count > 0 {
			set[c] = true
		}
	}
	for _, m := range moves {
		set[m.From], set[m.To] = true, true
	}
	return slices.Sorted(maps.Keys(set))
}

func movesOf(ms []v1alpha1.OrdinalMove) []Move {
	out := make([]Move, 0, len(ms))
	for _, m := range ms {
		out = append(out, Move{Ordinal: int(m.Ordinal), From: m.From, To: m.To, Phase: m.Phase})
	}
	return out
}

func stsSpan(m *member) Span {
	if m.sts == nil || m.sts.Spec.Replicas == nil {
		return Span{}
	}
	s := Span{Count: int(*m.sts.Spec.Replicas)}
	if m.sts.Spec.Ordinals != nil {
		s.Start = int(m.sts.Spec.Ordinals.Start)
	}
	return s
}

func describeMoves(ms []Move) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%d %s->%s (%s)", m.Ordinal, m.From, m.To, m.Phase))
	}
	return strings.Join(parts, ", ")
}

func now(t time.Time) *metav1.Time { mt := metav1.NewTime(t); return &mt }
