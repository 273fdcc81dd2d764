package membership

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// ErrInUse is what Unjoin's *InUseError matches with errors.Is: a
// FederatedStatefulSet still names the cluster.
var ErrInUse = errors.New("membership: cluster still in use")

// Use is a FederatedStatefulSet that names a member cluster.
type Use struct {
	// Namespace of the FederatedStatefulSet.
	Namespace string
	// Name of the FederatedStatefulSet.
	Name string
	// ServiceName is its headless Service name (spec.serviceName, default
	// the name).
	ServiceName string
	// Ordinals are the ranges of status.ordinals in the cluster.
	Ordinals []v1alpha1.OrdinalRange
	// InPlacement is true when spec.placement.clusters names the cluster.
	InPlacement bool
}

// String is "namespace/name (ordinals 2-3, spec.placement.clusters)".
func (u Use) String() string {
	what := u.ordinalText()
	if u.InPlacement {
		if what != "" {
			what += ", "
		}
		what += "spec.placement.clusters"
	}
	return fmt.Sprintf("%s/%s (%s)", u.Namespace, u.Name, what)
}

// ordinalText describes the ordinal ranges: "ordinals 2-3, ordinal 5".
func (u Use) ordinalText() string {
	var what []string
	for _, r := range u.Ordinals {
		switch r.Count {
		case 0:
			what = append(what, fmt.Sprintf("an empty ordinal range at %d", r.Start))
		case 1:
			what = append(what, fmt.Sprintf("ordinal %d", r.Start))
		default:
			what = append(what, fmt.Sprintf("ordinals %d-%d", r.Start, r.Start+r.Count-1))
		}
	}
	return strings.Join(what, ", ")
}

// InUseError is Unjoin's refusal to remove a cluster that services still
// name. It matches ErrInUse.
type InUseError struct {
	// Cluster is the MemberCluster.
	Cluster string
	// Uses are the FederatedStatefulSets naming it.
	Uses []Use
}

// Error lists every service and its ordinals in the cluster.
func (e *InUseError) Error() string {
	list := make([]string, len(e.Uses))
	for i, u := range e.Uses {
		list[i] = u.String()
	}
	return fmt.Sprintf("membership: cluster %s still in use by %d FederatedStatefulSet(s): %s; move them away first or force the unjoin",
		e.Cluster, len(e.Uses), strings.Join(list, "; "))
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// findUses lists the FederatedStatefulSets of every namespace of the hub
// that name cluster in status.ordinals or spec.placement.clusters.
func findUses(ctx context.Context, hub client.Client, cluster string, timeout time.Duration) ([]Use, error) {
	var list v1alpha1.FederatedStatefulSetList
	if err := call(ctx, timeout, func(ctx context.Context) error { return hub.List(ctx, &list) }); err != nil {
		return nil, hubError("list FederatedStatefulSets", err)
	}
	var uses []Use
	for _, f := range list.Items {
		if u, ok := useOf(&f, cluster); ok {
			uses = append(uses, u)
		}
	}
	return uses, nil
}

// useOf says whether and how one service names cluster.
func useOf(f *v1alpha1.FederatedStatefulSet, cluster string) (Use, bool) {
	u := Use{Namespace: f.Namespace, Name: f.Name, ServiceName: f.Spec.ServiceName}
	if u.ServiceName == "" {
		u.ServiceName = f.Name
	}
	for _, r := range f.Status.Ordinals {
		if r.Cluster == cluster {
			u.Ordinals = append(u.Ordinals, r)
		}
	}
	for _, c := range f.Spec.Placement.Clusters {
		if c.Name == cluster {
			u.InPlacement = true
		}
	}
	return u, len(u.Ordinals) > 0 || u.InPlacement
}
