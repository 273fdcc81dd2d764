package statefulset

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// Slice is what one member cluster runs of a service.
type Slice struct {
	StatefulSet *appsv1.StatefulSet
	Service     *corev1.Service
	Budget      *policyv1.PodDisruptionBudget
}

// ServiceName is the headless Service of a service's slices: spec.serviceName,
// or the service's own name.
func ServiceName(fss *v1alpha1.FederatedStatefulSet) string {
	if fss.Spec.ServiceName != "" {
		return fss.Spec.ServiceName
	}
	return fss.Name
}

// Render builds the slice of fss for cluster: the StatefulSet runs ordinals
// start..start+count-1, the disruption budget allows disruptions of that
// many pods at once. The cluster's override, if any, is applied. Render
// does not modify fss.
func Render(fss *v1alpha1.FederatedStatefulSet, cluster string, start, count, disruptions int32) Slice {
	ov := override(fss, cluster)
	labels := map[string]string{
		v1alpha1.LabelService:   fss.Name,
		v1alpha1.LabelCluster:   cluster,
		v1alpha1.LabelManagedBy: v1alpha1.ManagedByHub,
	}
	if ov != nil {
		labels = merge(ov.Labels, labels)
	}
	var annotations map[string]string
	if ov != nil && len(ov.Annotations) > 0 {
		annotations = maps.Clone(ov.Annotations)
	}
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: fss.Name, Namespace: fss.Namespace, Labels: maps.Clone(labels), Annotations: maps.Clone(annotations)}
	}
	stsMeta := meta()
	if r := fss.Spec.Replication; r != nil && r.Mode == v1alpha1.ReplicationPrimaryReplica {
		if stsMeta.Annotations == nil {
			stsMeta.Annotations = map[string]string{}
		}
		stsMeta.Annotations[v1alpha1.AnnotationReplication] = v1alpha1.FormatReplicationAnnotation(*r)
	}
	selector := map[string]string{v1alpha1.LabelService: fss.Name}

	t := fss.Spec.Template
	pod := *t.Template.DeepCopy()
	pod.Labels = merge(pod.Labels, selector)
	if ov != nil {
		pod.Labels = merge(pod.Labels, ov.Labels)
		pod.Labels[v1alpha1.LabelService] = fss.Name
		if len(ov.NodeSelector) > 0 {
			pod.Spec.NodeSelector = merge(pod.Spec.NodeSelector, ov.NodeSelector)
		}
		overrideContainers(pod.Spec.InitContainers, ov.Containers)
		overrideContainers(pod.Spec.Containers, ov.Containers)
	}
	claims := make([]corev1.PersistentVolumeClaim, len(t.VolumeClaimTemplates))
	for i := range t.VolumeClaimTemplates {
		claims[i] = *t.VolumeClaimTemplates[i].DeepCopy()
		claims[i].APIVersion, claims[i].Kind = "v1", "PersistentVolumeClaim"
		if ov != nil && ov.StorageClassName != nil {
			claims[i].Spec.StorageClassName = ptr(*ov.StorageClassName)
		}
	}

	sts := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: stsMeta,
		Spec: appsv1.StatefulSetSpec{
			Replicas:                             ptr(count),
			Ordinals:                             &appsv1.StatefulSetOrdinals{Start: start},
			Selector:                             &metav1.LabelSelector{MatchLabels: selector},
			ServiceName:                          ServiceName(fss),
			Template:                             pod,
			VolumeClaimTemplates:                 claims,
			PodManagementPolicy:                  t.PodManagementPolicy,
			UpdateStrategy:                       *t.UpdateStrategy.DeepCopy(),
			PersistentVolumeClaimRetentionPolicy: t.PersistentVolumeClaimRetentionPolicy.DeepCopy(),
			MinReadySeconds:                      t.MinReadySeconds,
		},
	}

	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  selector,
			// Peers of a replicated database find each other before they
			// are ready to serve clients.
			PublishNotReadyAddresses: true,
		},
	}
	svc.Name = ServiceName(fss)
	for _, p := range fss.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.Name, Port: p.Port, Protocol: proto, TargetPort: intstr.FromInt32(p.Port)})
	}

	minAvailable := intstr.FromInt32(max(count-disruptions, 0))
	pdb := &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: &minAvailable,
			Selector:     &metav1.LabelSelector{MatchLabels: selector},
		},
	}
	return Slice{StatefulSet: sts, Service: svc, Budget: pdb}
}

// override returns the service's override for cluster, or nil.
func override(fss *v1alpha1.FederatedStatefulSet, cluster string) *v1alpha1.ClusterOverride {
	for i := range fss.Spec.Overrides {
		if fss.Spec.Overrides[i].ClusterName == cluster {
			return &fss.Spec.Overrides[i]
		}
	}
	return nil
}

// overrideContainers replaces image and resources of the named containers.
func overrideContainers(cs []corev1.Container, ovs []v1alpha1.ContainerOverride) {
	for _, o := range ovs {
		for i := range cs {
			if cs[i].Name != o.Name {
				continue
			}
			if o.Image != "" {
				cs[i].Image = o.Image
			}
			if o.Resources != nil {
				cs[i].Resources = *o.Resources.DeepCopy()
			}
		}
	}
}

// merge returns a copy of base with over's entries added or replacing.
func merge(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

func ptr[T any](v T) *T { return &v }
