package statefulset

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func sample() *v1alpha1.FederatedStatefulSet {
	return &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "prod"},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas: 5,
			Ports:    []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{
						{Name: "postgres", Image: "postgres:15"},
						{Name: "exporter", Image: "exporter:1"},
					}},
				},
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
					ObjectMeta: metav1.ObjectMeta{Name: "data"},
					Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
					},
				}},
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
					WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				},
			},
			Overrides: []v1alpha1.ClusterOverride{{
				ClusterName:      "us-1",
				Containers:       []v1alpha1.ContainerOverride{{Name: "postgres", Image: "mirror.us/postgres:15", Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}},
				StorageClassName: ptr("fast"),
				NodeSelector:     map[string]string{"disk": "ssd"},
				Labels:           map[string]string{"team": "us", v1alpha1.LabelService: "spoof"},
				Annotations:      map[string]string{"note": "us"},
			}},
		},
	}
}

func TestRender(t *testing.T) {
	fss := sample()
	before := fss.DeepCopy()
	plain := Render(fss, "eu-1", 0, 2, 1)
	us := Render(fss, "us-1", 2, 2, 0)
	if !equality.Semantic.DeepEqual(fss, before) {
		t.Fatal("Render modified its input")
	}

	sts := plain.StatefulSet
	if sts.Name != "db" || sts.Namespace != "prod" || *sts.Spec.Replicas != 2 || sts.Spec.Ordinals.Start != 0 {
		t.Errorf("eu-1 StatefulSet %s/%s replicas %d start %d; want prod/db 2 from 0", sts.Namespace, sts.Name, *sts.Spec.Replicas, sts.Spec.Ordinals.Start)
	}
	if got := us.StatefulSet.Spec.Ordinals.Start; got != 2 {
		t.Errorf("us-1 ordinals.start = %d, want 2", got)
	}
	if sts.Spec.ServiceName != "db" || sts.Spec.Selector.MatchLabels[v1alpha1.LabelService] != "db" {
		t.Errorf("serviceName %q selector %v", sts.Spec.ServiceName, sts.Spec.Selector.MatchLabels)
	}
	for _, s := range []Slice{plain, us} {
		for _, o := range []metav1.Object{s.StatefulSet, s.Service, s.Budget} {
			if o.GetLabels()[v1alpha1.LabelService] != "db" || o.GetLabels()[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByHub {
				t.Errorf("%s labels %v lack the owner", o.GetName(), o.GetLabels())
			}
		}
		if l := s.StatefulSet.Spec.Template.Labels; l["app"] != "db" || l[v1alpha1.LabelService] != "db" {
			t.Errorf("pod labels %v", l)
		}
		if p := s.StatefulSet.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
			t.Errorf("retention policy not passed through: %v", p)
		}
	}
	if img := sts.Spec.Template.Spec.Containers[0].Image; img != "postgres:15" {
		t.Errorf("eu-1 image %q", img)
	}
	c := us.StatefulSet.Spec.Template.Spec.Containers
	if c[0].Image != "mirror.us/postgres:15" || c[0].Resources.Limits.Cpu().String() != "2" || c[1].Image != "exporter:1" {
		t.Errorf("us-1 containers %v", c)
	}
	if sc := us.StatefulSet.Spec.VolumeClaimTemplates[0].Spec.StorageClassName; sc == nil || *sc != "fast" {
		t.Errorf("us-1 storage class %v", sc)
	}
	if sc := sts.Spec.VolumeClaimTemplates[0].Spec.StorageClassName; sc != nil {
		t.Errorf("eu-1 storage class %v, want none", *sc)
	}
	if ns := us.StatefulSet.Spec.Template.Spec.NodeSelector; ns["disk"] != "ssd" {
		t.Errorf("us-1 node selector %v", ns)
	}
	if l := us.StatefulSet.Labels; l["team"] != "us" || l[v1alpha1.LabelService] != "db" {
		t.Errorf("us-1 labels %v: override must add but not replace the owner", l)
	}
	if a := us.Service.Annotations; a["note"] != "us" {
		t.Errorf("us-1 annotations %v", a)
	}

	svc := plain.Service
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses || len(svc.Spec.Ports) != 1 ||
		svc.Spec.Ports[0].Port != 5432 || svc.Spec.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("service spec %+v", svc.Spec)
	}
	if got := plain.Budget.Spec.MinAvailable.IntValue(); got != 1 {
		t.Errorf("eu-1 minAvailable %d, want 2-1", got)
	}
	if got := us.Budget.Spec.MinAvailable.IntValue(); got != 2 {
		t.Errorf("us-1 minAvailable %d, want 2-0", got)
	}
}

func TestDisruptions(t *testing.T) {
	tests := []struct {
		name   string
		counts []int32
		want   []int32
	}{
		{name: "nothing", counts: []int32{0, 0}, want: []int32{0, 0}},
		{name: "one replica may be drained", counts: []int32{1}, want: []int32{1}},
		{name: "two replicas: one", counts: []int32{1, 1}, want: []int32{1, 0}},
		{name: "five over three: two, to the biggest", counts: []int32{2, 2, 1}, want: []int32{1, 1, 0}},
		{name: "seven: three, spread by remainder", counts: []int32{3, 2, 2}, want: []int32{1, 1, 1}},
		{name: "never more than a slice has", counts: []int32{0, 9}, want: []int32{0, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Disruptions(tt.counts)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Disruptions(%v) = %v, want %v", tt.counts, got, tt.want)
			}
			var sum, n int32
			for i := range got {
				sum += got[i]
				n += tt.counts[i]
			}
			if n > 0 && sum != max((n-1)/2, 1) {
				t.Errorf("sum %d, want %d", sum, max((n-1)/2, 1))
			}
		})
	}
}
