package coordinator_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
)

// TestNoCandidate: with no RPO budget only a replica that lost nothing may
// be promoted; both replicas lag, so when the primary's lease expires the
// hub promotes nobody and says why in the FailingOver condition, naming
// each replica. A failover request that accepts data loss then promotes
// the most advanced one, and its outcome is reported under its id.
func TestNoCandidate(t *testing.T) {
	e := newEnv(t)
	f := startFleet(t, e, []uint64{0, 8 << 10, 64 << 10})
	e.startHub(t, "hub-a", nil)
	e.createService(spec{})
	waitStable(t, e, 1, 0)
	waitLagging(t, e, 1, 2)

	f.partition("eu-1")
	eventually(t, timeout, "FailingOver NoCandidate", func() error {
		c, err := failingOver(e.get())
		if err != nil {
			return err
		}
		if c.Status != "True" || c.Reason != v1alpha1.ReasonNoCandidate {
			return fmt.Errorf("condition %s %s: %s", c.Status, c.Reason, c.Message)
		}
		for _, want := range []string{"db-1 (us-1) is", "db-2 (ap-1) is", "behind", "--accept-data-loss"} {
			if !strings.Contains(c.Message, want) {
				return fmt.Errorf("message %q lacks %q", c.Message, want)
			}
		}
		return nil
	})
	if snap := e.snapshot(); snap.Epoch != 1 {
		t.Fatalf("epoch %d: promoted without a candidate", snap.Epoch)
	}
	if c, err := failingOver(e.get()); err == nil {
		t.Logf("condition: %s", c.Message)
	}

	e.annotate(v1alpha1.AnnotationFailover, "id=f1,acceptDataLoss=true")
	waitStable(t, e, 2, 1)
	eventually(t, timeout, "request f1 succeeded", func() error {
		rs := requestStatus(e.get(), v1alpha1.RequestFailover)
		if rs == nil || rs.ID != "f1" || rs.Phase != v1alpha1.RequestSucceeded {
			return fmt.Errorf("request %+v", rs)
		}
		return nil
	})
	r := e.get().Status.FailoverHistory[0]
	if r.Reason != "Manual" || !r.AcceptedDataLoss || r.DataLossBytes == nil || *r.DataLossBytes == 0 {
		t.Errorf("failover record %+v", r)
	}
	// The same request again (another field changed, the id kept) is
	// not acted on again.
	e.annotate(v1alpha1.AnnotationFailover, "id=f1,to=db-2,acceptDataLoss=true")
	consistently(t, 2*time.Second, "a handled request is not acted on again", func() error {
		if snap := e.snapshot(); snap.Epoch != 2 {
			return fmt.Errorf("epoch %d", snap.Epoch)
		}
		if rs := requestStatus(e.get(), v1alpha1.RequestFailover); rs == nil || rs.ID != "f1" || rs.Phase != v1alpha1.RequestSucceeded {
			return fmt.Errorf("request %+v", rs)
		}
		return nil
	})

	// The old primary's cluster returns with a new agent, which measures
	// what the old primary lost before rewinding it: the hub adds it to
	// the failover's record and says so.
	returned, err := e.connect(t, etcdURL).StartAgent(t.Context(), "eu-1-again", "eu-1")
	if err != nil {
		t.Fatal(err)
	}
	lost := &coord.LostLog{Epoch: 2, Timeline: 1, Fork: 4096, Bytes: 12 << 10, Transactions: 3, MeasuredAt: time.Now()}
	if err := returned.Report(t.Context(), coord.Service{Namespace: e.ns, Name: "db"}, 0,
		coord.Report{Role: coord.RoleFenced, Position: 1 << 20, Time: time.Now(), Lost: lost}); err != nil {
		t.Fatal(err)
	}
	eventually(t, timeout, "the measured loss in the failover record", func() error {
		r := e.get().Status.FailoverHistory[0]
		if r.Epoch != 2 || r.MeasuredLossBytes == nil || *r.MeasuredLossBytes != 12<<10 ||
			r.LostTransactions == nil || *r.LostTransactions != 3 || r.LossMeasuredAt == nil {
			return fmt.Errorf("record %+v", r)
		}
		return nil
	})
	ev := findEvent(t, e, "DataLossMeasured")
	for _, want := range []string{"db-0 (eu-1)", "epoch 2", "12288 bytes and 3 committed transactions"} {
		if !strings.Contains(ev.Note, want) {
			t.Errorf("event %q lacks %q", ev.Note, want)
		}
	}
	if ev.Type != "Warning" {
		t.Errorf("event type %s, want Warning", ev.Type)
	}
	f.noSplitBrain()
}

// findEvent waits for an event of reason on the service.
func findEvent(t *testing.T, e *env, reason string) eventsv1.Event {
	t.Helper()
	var ev eventsv1.Event
	eventually(t, timeout, "event "+reason, func() error {
		var list eventsv1.EventList
		if err := hubc.List(t.Context(), &list); err != nil {
			return err
		}
		for _, x := range list.Items {
			if x.Regarding.Namespace == e.ns && x.Regarding.Name == "db" && x.Reason == reason {
				ev = x
				return nil
			}
		}
		return fmt.Errorf("none among %d events", len(list.Items))
	})
	return ev
}
