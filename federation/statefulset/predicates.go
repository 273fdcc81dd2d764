package statefulset

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// specChanged passes creations, deletions and updates that change the
// spec or start the deletion, not the hub's own status writes.
func specChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
				e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
		},
	}
}

// memberChanged passes member clusters that come, go, change their spec
// or flip Ready or Reachable — not the probe time ticking.
func memberChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() {
				return true
			}
			return memberHealth(e.ObjectOld) != memberHealth(e.ObjectNew)
		},
	}
}

func memberHealth(o client.Object) [2]bool {
	mc, ok := o.(*v1alpha1.MemberCluster)
	if !ok {
		return [2]bool{}
	}
	return [2]bool{
		meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberReady),
		meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberReachable),
	}
}
