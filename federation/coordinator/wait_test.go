package coordinator_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// eventually polls check every 50 ms until it returns nil or timeout
// passes, then fails the test with the last error.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// consistently checks every 100 ms for d that check keeps returning nil.
func consistently(t *testing.T, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := check(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// failingOver returns the service's FailingOver condition, or an error.
func failingOver(fss *v1alpha1.FederatedStatefulSet) (*metav1.Condition, error) {
	c := meta.FindStatusCondition(fss.Status.Conditions, v1alpha1.ServiceFailingOver)
	if c == nil {
		return nil, errors.New("no FailingOver condition")
	}
	return c, nil
}

// waitLagging waits until the status shows the replicas behind the
// primary, as they report it.
func waitLagging(t *testing.T, e *env, replicas ...int32) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("replicas %v reported behind the primary", replicas), func() error {
		for _, rs := range e.get().Status.ReplicaStatuses {
			for _, n := range replicas {
				if rs.Ordinal == n && (rs.LagBytes == nil || *rs.LagBytes == 0) {
					return fmt.Errorf("replica %d: lag %v", n, rs.LagBytes)
				}
			}
		}
		return nil
	})
}

// waitStable waits until the status names primary in epoch, confirmed
// (FailingOver False).
func waitStable(t *testing.T, e *env, epoch int64, primary int32) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("db-%d primary in epoch %d", primary, epoch), func() error {
		fss := e.get()
		p := fss.Status.Primary
		c, err := failingOver(fss)
		if err != nil {
			return err
		}
		if p == nil || p.Epoch != epoch || p.Ordinal != primary || c.Status != "False" {
			return fmt.Errorf("primary %+v, condition %s %s: %s", p, c.Status, c.Reason, c.Message)
		}
		return nil
	})
}

// requestStatus returns the service's answer to its latest request of
// kind, or nil.
func requestStatus(fss *v1alpha1.FederatedStatefulSet, kind v1alpha1.RequestKind) *v1alpha1.RequestStatus {
	for i := range fss.Status.Requests {
		if fss.Status.Requests[i].Kind == kind {
			return &fss.Status.Requests[i]
		}
	}
	return nil
}
