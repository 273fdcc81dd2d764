package membership

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// workloads records, for every service that still names the cluster, the
// objects of its slice that exist in the member: the StatefulSet (named
// like the service or its serviceName), its claims, the headless Service
// and the PodDisruptionBudget. Unjoin never deletes them: they hold data.
func (u *unjoiner) workloads(ctx context.Context, c client.Client) {
	for _, use := range u.rep.Uses {
		svc := use.Namespace + "/" + use.Name
		for _, name := range unique(use.Name, use.ServiceName) {
			key := client.ObjectKey{Namespace: use.Namespace, Name: name}
			var sts appsv1.StatefulSet
			if u.exists(ctx, c, "StatefulSet", key, &sts) {
				u.left(ObjectRef{Side: SideMember, Kind: "StatefulSet", Namespace: key.Namespace, Name: name},
					fmt.Sprintf("slice of %s with %d replicas from ordinal %d: unjoin never deletes workloads; its pods keep running", svc, replicas(&sts), start(&sts)))
				u.claims(ctx, c, &sts, svc)
			}
			if u.exists(ctx, c, "Service", key, &corev1.Service{}) {
				u.left(ObjectRef{Side: SideMember, Kind: "Service", Namespace: key.Namespace, Name: name}, "Service of the slice of "+svc)
			}
			if u.exists(ctx, c, "PodDisruptionBudget", key, &policyv1.PodDisruptionBudget{}) {
				u.left(ObjectRef{Side: SideMember, Kind: "PodDisruptionBudget", Namespace: key.Namespace, Name: name}, "PodDisruptionBudget of the slice of "+svc)
			}
		}
	}
}

// exists gets obj; a failed look-up is recorded as a leftover that could
// not be checked.
func (u *unjoiner) exists(ctx context.Context, c client.Client, kind string, key client.ObjectKey, obj client.Object) bool {
	err := call(ctx, u.timeout, func(ctx context.Context) error { return c.Get(ctx, key, obj) })
	if err == nil {
		return true
	}
	if !apierrors.IsNotFound(err) {
		u.left(ObjectRef{Side: SideMember, Kind: kind, Namespace: key.Namespace, Name: key.Name}, fmt.Sprintf("could not check whether it exists: %v", err))
	}
	return false
}

// claims records the PersistentVolumeClaims made from the StatefulSet's
// claim templates (<template>-<statefulset>-<ordinal>), whatever the
// ordinal: retained claims of scaled-away replicas count too.
func (u *unjoiner) claims(ctx context.Context, c client.Client, sts *appsv1.StatefulSet, svc string) {
	if len(sts.Spec.VolumeClaimTemplates) == 0 {
		return
	}
	var pvcs corev1.PersistentVolumeClaimList
	if err := call(ctx, u.timeout, func(ctx context.Context) error {
		return c.List(ctx, &pvcs, client.InNamespace(sts.Namespace))
	}); err != nil {
		u.left(ObjectRef{Side: SideMember, Kind: "PersistentVolumeClaim", Namespace: sts.Namespace, Name: "*-" + sts.Name + "-*"},
			fmt.Sprintf("could not list the claims of the slice: %v", err))
		return
	}
	for _, p := range pvcs.Items {
		for _, t := range sts.Spec.VolumeClaimTemplates {
			if ordinal, ok := strings.CutPrefix(p.Name, t.Name+"-"+sts.Name+"-"); ok && digits(ordinal) {
				u.left(ObjectRef{Side: SideMember, Kind: "PersistentVolumeClaim", Namespace: p.Namespace, Name: p.Name},
					"data of replica "+ordinal+" of "+svc)
			}
		}
	}
}

func replicas(sts *appsv1.StatefulSet) int32 {
	if sts.Spec.Replicas == nil {
		return 1
	}
	return *sts.Spec.Replicas
}

func start(sts *appsv1.StatefulSet) int32 {
	if sts.Spec.Ordinals == nil {
		return 0
	}
	return sts.Spec.Ordinals.Start
}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// unique drops empty and repeated names.
func unique(names ...string) []string {
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
