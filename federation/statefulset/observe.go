package statefulset

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// member is what one reconcile saw of one member cluster.
type member struct {
	name    string
	cluster *v1alpha1.MemberCluster // nil when the MemberCluster is gone
	client  client.Client
	err     error // why the member cannot be used now
	sts     *appsv1.StatefulSet
	pods    map[int]*corev1.Pod // by ordinal
}

func (m *member) reachable() bool { return m.err == nil }

// observe reads the service's slice and pods in one member, from the
// registry's cache, or from its API server when live is set.
func (r *Reconciler) observe(ctx context.Context, fss *v1alpha1.FederatedStatefulSet, m *member, live bool) {
	if m.cluster == nil {
		m.err = fmt.Errorf("MemberCluster %s does not exist", m.name)
		return
	}
	cl, err := r.Members.Client(m.name)
	if err != nil {
		m.err = err
		return
	}
	m.client = cl
	var reader client.Reader = cl
	if live {
		if reader, err = r.Members.LiveReader(m.name); err != nil {
			m.err = err
			return
		}
	}
	var sts appsv1.StatefulSet
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: fss.Namespace, Name: fss.Name}, &sts); {
	case err == nil:
		if sts.Labels[v1alpha1.LabelService] == fss.Name {
			m.sts = &sts
		}
	case !apierrors.IsNotFound(err):
		m.err = fmt.Errorf("get StatefulSet %s/%s in %s: %w", fss.Namespace, fss.Name, m.name, err)
		return
	}
	var pods corev1.PodList
	if err := reader.List(ctx, &pods, client.InNamespace(fss.Namespace), client.MatchingLabels{v1alpha1.LabelService: fss.Name}); err != nil {
		m.err = fmt.Errorf("list pods of %s/%s in %s: %w", fss.Namespace, fss.Name, m.name, err)
		return
	}
	m.pods = map[int]*corev1.Pod{}
	for i := range pods.Items {
		if k, ok := ordinalOf(fss.Name, pods.Items[i].Name); ok {
			m.pods[k] = &pods.Items[i]
		}
	}
}

// ordinalOf parses the ordinal of a pod named <service>-<ordinal>.
func ordinalOf(service, pod string) (int, bool) {
	rest, ok := strings.CutPrefix(pod, service+"-")
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(rest)
	if err != nil || k < 0 || strconv.Itoa(k) != rest {
		return 0, false
	}
	return k, true
}

// settled reports whether the member's StatefulSet controller has seen
// the slice's latest spec, so that it creates no pod outside it.
func (m *member) settled(appliedGeneration int64) bool {
	if m.sts == nil {
		return true
	}
	return m.sts.Status.ObservedGeneration >= max(m.sts.Generation, appliedGeneration)
}

// podReady reports the Ready condition of a pod that is not terminating.
func podReady(p *corev1.Pod) bool {
	if p == nil || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
