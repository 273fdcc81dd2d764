package failover

import (
	"errors"
	"strings"
	"testing"
)

// newService is a service that never had a primary: three replicas that
// have not reported.
func newService() State {
	return State{
		Service: "db", Policy: Policy{Mode: Automatic},
		Allowed: []string{"eu-1", "eu-2", "us-1"},
		Replicas: []Replica{
			{Name: "db-0", Cluster: "eu-1", Region: "eu", Healthy: true, Reachable: true},
			{Name: "db-1", Cluster: "eu-2", Region: "eu", Healthy: true, Reachable: true},
			{Name: "db-2", Cluster: "us-1", Region: "us", Healthy: true, Reachable: true},
		},
	}
}

// TestBootstrap: the first primary is committed in epoch 1 like any
// promotion, the others follow it, and the history records the bootstrap.
func TestBootstrap(t *testing.T) {
	s, acts, err := Bootstrap(newService(), "db-1", at(0))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(commands(acts), "; "); got != "CommitPromotion db-1 epoch 0->1" {
		t.Fatalf("bootstrap actions: %s", got)
	}
	if s.Condition.Reason != ReasonPromoting || !strings.Contains(s.Condition.Message, "db-1 (eu-2) as primary in epoch 1") {
		t.Errorf("condition %+v", s.Condition)
	}
	if _, acts := run(t, s, Resume{At: at(1)}); strings.Join(commands(acts), "; ") != "CommitPromotion db-1 epoch 0->1" {
		t.Errorf("resume before the commit: %v", commands(acts))
	}
	s, acts = run(t, s, PromotionCommitted{Epoch: 1, Primary: "db-1", At: at(2)})
	want := "Promote db-1 epoch 1; Follow db-0 -> db-1 epoch 1; Follow db-2 -> db-1 epoch 1"
	if got := strings.Join(commands(acts), "; "); got != want {
		t.Errorf("after the commit:\n got %s\nwant %s", got, want)
	}
	recs := records(acts)
	if len(recs) != 1 || recs[0].Cause != CauseBootstrap || recs[0].From != "" || recs[0].To != "db-1" ||
		!recs[0].FencedAt.IsZero() || !recs[0].DetectedAt.Equal(at(0)) || !recs[0].CommittedAt.Equal(at(2)) {
		t.Errorf("record %+v", recs)
	}
	s, _ = run(t, s,
		PositionReported{Replica: "db-1", Role: RolePrimary, Epoch: 1, Position: 10, At: at(3)},
		Promoted{Replica: "db-1", Epoch: 1, Position: 0, At: at(3)})
	if s.Phase.Name != Stable || s.Condition.Reason != ReasonPrimaryHealthy {
		t.Errorf("after the promotion: phase %s, condition %+v", s.Phase.Name, s.Condition)
	}
}

func TestBootstrapRefuses(t *testing.T) {
	for name, s := range map[string]State{
		"a service with a primary": fixture(),
		"a bootstrap under way":    func() State { s, _, _ := Bootstrap(newService(), "db-0", at(0)); return s }(),
	} {
		if _, _, err := Bootstrap(s, "db-0", at(1)); !errors.Is(err, ErrNotNew) {
			t.Errorf("%s: %v, want ErrNotNew", name, err)
		}
	}
	if _, _, err := Bootstrap(newService(), "db-7", at(0)); err == nil {
		t.Error("bootstrap of an unknown replica accepted")
	}
}
