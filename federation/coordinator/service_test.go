package coordinator_test

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// spec describes a test service.
type spec struct {
	rpoBytes *int64
	grace    time.Duration
	regions  []string // preferred primary regions
	native   bool     // replication Native instead of PrimaryReplica
}

// createService creates the PrimaryReplica service "db" with one replica
// per cluster (ordinal i in clusters[i]) and writes the status the
// FederatedStatefulSet controller would: the ordinal map and every
// replica ready with a pod IP.
func (e *env) createService(s spec) *v1alpha1.FederatedStatefulSet {
	t := e.t
	t.Helper()
	fss := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{
			Replicas: int32(len(clusters)),
			Ports:    []v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:17"}}}}},
			Placement:   v1alpha1.Placement{PrimaryRegions: s.regions},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL},
			Failover:    &v1alpha1.Failover{Mode: v1alpha1.FailoverAutomatic, DetectionGracePeriod: &metav1.Duration{Duration: s.grace}},
		},
	}
	if s.rpoBytes != nil {
		fss.Spec.Replication.RPO = &v1alpha1.RPOBudget{MaxLagBytes: s.rpoBytes}
	}
	if s.native {
		fss.Spec.Replication, fss.Spec.Failover = &v1alpha1.Replication{Mode: v1alpha1.ReplicationNative}, nil
	}
	if err := hubc.Create(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	for i, c := range clusters {
		r := v1alpha1.OrdinalRange{Cluster: c.name, Start: int32(i), Count: 1}
		fss.Status.Ordinals = append(fss.Status.Ordinals, r)
		fss.Status.Target = append(fss.Status.Target, r)
		fss.Status.ReplicaStatuses = append(fss.Status.ReplicaStatuses, v1alpha1.ReplicaStatus{
			Ordinal: int32(i), Cluster: c.name, PodIP: fmt.Sprintf("127.%d.0.2", 11+i), Ready: true})
	}
	fss.Status.Replicas, fss.Status.ReadyReplicas = int32(len(clusters)), int32(len(clusters))
	if err := hubc.Status().Update(t.Context(), fss); err != nil {
		t.Fatal(err)
	}
	return fss
}

// get reads the service from the API server.
func (e *env) get() *v1alpha1.FederatedStatefulSet {
	e.t.Helper()
	var fss v1alpha1.FederatedStatefulSet
	if err := hubc.Get(e.t.Context(), client.ObjectKey{Namespace: e.ns, Name: "db"}, &fss); err != nil {
		e.t.Fatal(err)
	}
	return &fss
}

// update changes the service with change, and its status with
// changeStatus when set, retrying on conflicts with the hub's writes.
func (e *env) update(change, changeStatus func(*v1alpha1.FederatedStatefulSet)) {
	e.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		fss := e.get()
		if change == nil {
			return nil
		}
		change(fss)
		return hubc.Update(e.t.Context(), fss)
	})
	if err == nil && changeStatus != nil {
		err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
			fss := e.get()
			changeStatus(fss)
			return hubc.Status().Update(e.t.Context(), fss)
		})
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// annotate sets an annotation on the service, as fedctl does.
func (e *env) annotate(key, value string) {
	e.t.Helper()
	fss := e.get()
	patch := client.MergeFrom(fss.DeepCopy())
	if fss.Annotations == nil {
		fss.Annotations = map[string]string{}
	}
	fss.Annotations[key] = value
	if err := hubc.Patch(e.t.Context(), fss, patch); err != nil {
		e.t.Fatal(err)
	}
}
