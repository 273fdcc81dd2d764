package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// TestRequestCommands runs fedctl switchover and failover against the test
// bed's hub API server, with the test answering in the service's status as
// the hub's failover coordinator does.
func TestRequestCommands(t *testing.T) {
	ns := "fedctl-requests"
	hub, hubFlag := hubOf(t, ns)
	key := client.ObjectKey{Namespace: ns, Name: "db"}
	fss := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 2,
			Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:17"}}}}},
			Replication: &v1alpha1.Replication{Mode: v1alpha1.ReplicationPrimaryReplica, Driver: v1alpha1.DriverPostgreSQL}},
	}
	if err := hub.Create(t.Context(), fss); err != nil {
		t.Fatal(err)
	}

	t.Run("switchover succeeds", func(t *testing.T) {
		go answer(t, hub, key, v1alpha1.AnnotationSwitchover, v1alpha1.RequestSucceeded, "db-1 (us-1) is primary in epoch 2")
		out, progress, err := run(t, append([]string{"switchover", ns + "/db", "--to", "us-1"}, hubFlag...)...)
		if err != nil {
			t.Fatalf("fedctl switchover: %v\n%s", err, progress)
		}
		wants(t, "stdout", out, "Switchover of fedctl-requests/db succeeded: db-1 (us-1) is primary in epoch 2")
		wants(t, "stderr", progress, "Requested switchover of fedctl-requests/db to us-1 (request ",
			"Accepted: FailingOver=True Switchover: switchover from db-0 (eu-1) to db-1 (us-1): demoting db-0")
		if v := get(t, hub, key).Annotations[v1alpha1.AnnotationSwitchover]; !strings.HasPrefix(v, "id=") || !strings.HasSuffix(v, ",to=us-1") {
			t.Errorf("annotation %q", v)
		}
	})
	t.Run("failover refused", func(t *testing.T) {
		go answer(t, hub, key, v1alpha1.AnnotationFailover, v1alpha1.RequestRefused, "primary db-1 (us-1) holds its lease in epoch 2")
		_, progress, err := run(t, append([]string{"failover", "db", "-n", ns, "--accept-data-loss"}, hubFlag...)...)
		if err == nil || !strings.Contains(err.Error(), "Failover of fedctl-requests/db refused: primary db-1 (us-1) holds its lease") {
			t.Fatalf("fedctl failover: %v\n%s", err, progress)
		}
		wants(t, "stderr", progress, "Requested failover of fedctl-requests/db, accepting data loss (request ")
		if v := get(t, hub, key).Annotations[v1alpha1.AnnotationFailover]; !strings.HasSuffix(v, ",acceptDataLoss=true") {
			t.Errorf("annotation %q", v)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		for args, want := range map[string]string{
			"switchover a/b/c":  `SERVICE "a/b/c"`,
			"failover /db":      `SERVICE "/db"`,
			"switchover nosuch": "no FederatedStatefulSet default/nosuch",
		} {
			_, _, err := run(t, append(strings.Fields(args), hubFlag...)...)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("fedctl %s: %v, want an error about %s", args, err, want)
			}
		}
	})
}

// answer plays the hub: once the request annotation appears it accepts
// the request with a FailingOver condition, then gives it its final phase.
func answer(t *testing.T, hub client.Client, key client.ObjectKey, annotation string, phase v1alpha1.RequestPhase, msg string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var id string
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for id == "" {
		var fss v1alpha1.FederatedStatefulSet
		if err := hub.Get(ctx, key, &fss); err == nil {
			for _, f := range strings.Split(fss.Annotations[annotation], ",") {
				if v, ok := strings.CutPrefix(f, "id="); ok && findRequest(fss.Status.Requests, kindOf(annotation), v) == nil {
					id = v
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Error("no request annotation")
			return
		case <-tick.C:
		}
	}
	set := func(p v1alpha1.RequestPhase, m string, c *metav1.Condition) {
		var fss v1alpha1.FederatedStatefulSet
		if err := hub.Get(ctx, key, &fss); err != nil {
			t.Error(err)
			return
		}
		fss.Status.Requests = []v1alpha1.RequestStatus{{Kind: kindOf(annotation), ID: id, Phase: p, Message: m, Time: metav1.Now()}}
		if c != nil {
			meta.SetStatusCondition(&fss.Status.Conditions, *c)
		}
		if err := hub.Status().Update(ctx, &fss); err != nil {
			t.Error(fmt.Errorf("answer %s: %w", id, err))
		}
	}
	set(v1alpha1.RequestAccepted, "accepted in epoch 1", &metav1.Condition{Type: v1alpha1.ServiceFailingOver, Status: metav1.ConditionTrue,
		Reason: "Switchover", Message: "switchover from db-0 (eu-1) to db-1 (us-1): demoting db-0"})
	// The hub takes a while, as a real switchover does: long enough for
	// one of fedctl's polls (every 500 ms) to see the accepted phase.
	time.Sleep(600 * time.Millisecond)
	set(phase, msg, nil)
}

// kindOf is the request kind of an annotation.
func kindOf(annotation string) v1alpha1.RequestKind {
	if annotation == v1alpha1.AnnotationSwitchover {
		return v1alpha1.RequestSwitchover
	}
	return v1alpha1.RequestFailover
}

// get reads the service.
func get(t *testing.T, hub client.Client, key client.ObjectKey) *v1alpha1.FederatedStatefulSet {
	t.Helper()
	var fss v1alpha1.FederatedStatefulSet
	if err := hub.Get(t.Context(), key, &fss); err != nil {
		t.Fatal(err)
	}
	return &fss
}
