package members_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// callTimeout bounds each API call of the tests.
const callTimeout = 10 * time.Second

// eventually polls check every 100 ms until it returns nil, and fails the
// test with check's last error once timeout has passed.
func eventually(t *testing.T, timeout time.Duration, what string, check func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(base(t), callTimeout)
		err := check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, timeout, err)
		}
		<-tick.C
	}
}

// base is the test's context without its cancellation, which comes before
// Cleanup functions run; the helpers bound every call with a deadline.
func base(t *testing.T) context.Context {
	return context.WithoutCancel(t.Context())
}

// within runs call with callTimeout.
func within(t *testing.T, call func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(base(t), callTimeout)
	defer cancel()
	return call(ctx)
}

// memberCluster reads a MemberCluster from the hub.
func memberCluster(ctx context.Context, name string) (*v1alpha1.MemberCluster, error) {
	mc := &v1alpha1.MemberCluster{}
	return mc, hub.Get(ctx, client.ObjectKey{Name: name}, mc)
}

// hasCondition fails unless the MemberCluster's condition typ has status
// and reason.
func hasCondition(mc *v1alpha1.MemberCluster, typ string, status metav1.ConditionStatus, reason string) error {
	c := meta.FindStatusCondition(mc.Status.Conditions, typ)
	if c == nil {
		return fmt.Errorf("%s has no %s condition", mc.Name, typ)
	}
	if c.Status != status || c.Reason != reason {
		return fmt.Errorf("%s: %s is %s/%s (%q), want %s/%s", mc.Name, typ, c.Status, c.Reason, c.Message, status, reason)
	}
	return nil
}

// waitCondition waits until the named MemberCluster's condition typ has
// status and reason.
func waitCondition(t *testing.T, name, typ string, status metav1.ConditionStatus, reason string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%s %s=%s/%s", name, typ, status, reason), func(ctx context.Context) error {
		mc, err := memberCluster(ctx, name)
		if err != nil {
			return err
		}
		return hasCondition(mc, typ, status, reason)
	})
}

// waitEvent waits for an event on the named MemberCluster with type and
// reason, emitted at or after since.
func waitEvent(t *testing.T, name, typ, reason string, since time.Time) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	eventually(t, 30*time.Second, fmt.Sprintf("event %s %s on %s", typ, reason, name), func(ctx context.Context) error {
		var list eventsv1.EventList
		if err := hub.List(ctx, &list); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Kind == "MemberCluster" && e.Regarding.Name == name && e.Type == typ && e.Reason == reason &&
				!e.EventTime.Time.Before(since.Truncate(time.Microsecond)) {
				found = e
				return nil
			}
		}
		return fmt.Errorf("none among %d events", len(list.Items))
	})
	return found
}

// metricValue reads a gauge or counter of the controller-runtime registry
// for the label cluster=name; ok is false when the series does not exist.
func metricValue(t *testing.T, family, name string) (v float64, ok bool) {
	t.Helper()
	fams, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster" && l.GetValue() == name {
					if g := m.GetGauge(); g != nil {
						return g.GetValue(), true
					}
					return m.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
