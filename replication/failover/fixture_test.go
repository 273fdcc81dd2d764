package failover

import (
	"strings"
	"testing"
	"time"
)

// t0 is the time of the fixture's last reports.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus sec seconds.
func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

const mib = 1 << 20

// rep is a healthy, reachable replica following epoch 4 that reported pos
// at t0.
func rep(name, cluster, region string, role Role, pos uint64) Replica {
	return Replica{Name: name, Cluster: cluster, Region: region, Healthy: true, Reachable: true,
		Role: role, Epoch: 4, Position: pos, ReportedAt: t0}
}

// fixture is a Stable service: db-0 (eu-1, region eu) is primary in epoch
// 4 at position 1000; db-1 (eu-2, eu) is caught up at 1000; db-2 (us-1,
// us) is at 900. Automatic mode, no RPO budget, no grace.
func fixture() State {
	s := State{
		Service: "db",
		Policy:  Policy{Mode: Automatic},
		Epoch:   4, Primary: "db-0", Phase: Phase{Name: Stable},
		Marks:   []Mark{{Position: 900, At: t0.Add(-time.Second)}, {Position: 1000, At: t0}},
		Allowed: []string{"eu-1", "eu-2", "us-1"},
		Replicas: []Replica{
			rep("db-0", "eu-1", "eu", RolePrimary, 1000),
			rep("db-1", "eu-2", "eu", RoleAsyncReplica, 1000),
			rep("db-2", "us-1", "us", RoleAsyncReplica, 900),
		},
	}
	s.Replicas[1].CaughtUpAt = t0
	s.Replicas[2].CaughtUpAt = t0.Add(-time.Second)
	s.Condition = s.condition(t0)
	return s
}

// with returns the fixture changed by each function.
func with(changes ...func(*State)) State {
	s := fixture()
	for _, c := range changes {
		c(&s)
	}
	return s
}

// set changes one replica of a state.
func set(name string, change func(*Replica)) func(*State) {
	return func(s *State) { change(s.Replica(name)) }
}

func bytesBudget(n uint64) func(*State) {
	return func(s *State) {
		if s.Policy.RPO == nil {
			s.Policy.RPO = &RPO{}
		}
		s.Policy.RPO.MaxLagBytes = &n
	}
}

func timeBudget(d time.Duration) func(*State) {
	return func(s *State) {
		if s.Policy.RPO == nil {
			s.Policy.RPO = &RPO{}
		}
		s.Policy.RPO.MaxLag = &d
	}
}

// run steps s through evs, checking the state stays valid, and returns the
// final state and the actions of the last event.
func run(t *testing.T, s State, evs ...Event) (State, []Action) {
	t.Helper()
	var acts []Action
	for _, ev := range evs {
		s, acts = Step(s, ev)
		if err := s.Validate(); err != nil {
			t.Fatalf("after %T: %v", ev, err)
		}
	}
	return s, acts
}

// commands renders the actions for agents and etcd (and refusals),
// leaving out conditions and records.
func commands(acts []Action) []string {
	var out []string
	for _, a := range acts {
		switch a.(type) {
		case SetCondition, RecordFailover:
		default:
			out = append(out, a.String())
		}
	}
	return out
}

// records returns the failover records among acts.
func records(acts []Action) []Record {
	var out []Record
	for _, a := range acts {
		if r, ok := a.(RecordFailover); ok {
			out = append(out, r.Record)
		}
	}
	return out
}

// stepCase is one named case: a state, events that lead up to the event
// under test, and what that event must do.
type stepCase struct {
	name  string
	state State
	given []Event
	when  Event
	// wantPhase is the phase after the event.
	wantPhase PhaseName
	// want are the commands the event emits, in order (conditions and
	// records left out); nil means none.
	want []string
	// wantCondition are substrings of the FailingOver message afterwards.
	wantCondition []string
	// check tests anything else.
	check func(t *testing.T, s State, acts []Action)
}

func runCases(t *testing.T, cases []stepCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := run(t, tc.state, tc.given...)
			s, acts := run(t, s, tc.when)
			if s.Phase.Name != tc.wantPhase {
				t.Errorf("phase %s, want %s (condition: %s)", s.Phase.Name, tc.wantPhase, s.Condition.Message)
			}
			if got := commands(acts); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("commands:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			for _, sub := range tc.wantCondition {
				if !strings.Contains(s.Condition.Message, sub) {
					t.Errorf("condition %q lacks %q", s.Condition.Message, sub)
				}
			}
			if tc.check != nil {
				tc.check(t, s, acts)
			}
		})
	}
}
