package coordinator

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		kind    v1alpha1.RequestKind
		value   string
		want    request
		wantErr string
	}{
		{name: "switchover to a cluster", kind: v1alpha1.RequestSwitchover, value: "id=s1,to=us-1",
			want: request{kind: v1alpha1.RequestSwitchover, id: "s1", to: "us-1"}},
		{name: "switchover anywhere", kind: v1alpha1.RequestSwitchover, value: "id=s2",
			want: request{kind: v1alpha1.RequestSwitchover, id: "s2"}},
		{name: "spaces around fields", kind: v1alpha1.RequestSwitchover, value: " id=s3 , to=eu-west ",
			want: request{kind: v1alpha1.RequestSwitchover, id: "s3", to: "eu-west"}},
		{name: "failover accepting loss", kind: v1alpha1.RequestFailover, value: "id=f1,acceptDataLoss=true,to=db-2",
			want: request{kind: v1alpha1.RequestFailover, id: "f1", to: "db-2", acceptDataLoss: true}},
		{name: "failover within the budget", kind: v1alpha1.RequestFailover, value: "id=f2,acceptDataLoss=false",
			want: request{kind: v1alpha1.RequestFailover, id: "f2"}},
		{name: "no id", kind: v1alpha1.RequestFailover, value: "acceptDataLoss=true", wantErr: "no id"},
		{name: "bad id", kind: v1alpha1.RequestSwitchover, value: "id=a b,to=x", wantErr: "id \"a b\""},
		{name: "acceptDataLoss on a switchover", kind: v1alpha1.RequestSwitchover, value: "id=s4,acceptDataLoss=true", wantErr: "unknown field"},
		{name: "field twice", kind: v1alpha1.RequestSwitchover, value: "id=s5,to=a,to=b", wantErr: "to given twice"},
		{name: "not a boolean", kind: v1alpha1.RequestFailover, value: "id=f3,acceptDataLoss=yes", wantErr: "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseRequest(tc.kind, tc.value)
			if tc.wantErr != "" {
				if got.err == nil || !strings.Contains(got.err.Error(), tc.wantErr) || got.id == "" {
					t.Fatalf("parse %q = %+v, want an error about %q and an id to record it under", tc.value, got, tc.wantErr)
				}
				return
			}
			if got.err != nil || got != tc.want {
				t.Fatalf("parse %q = %+v, want %+v", tc.value, got, tc.want)
			}
		})
	}
}

func TestRequestEvent(t *testing.T) {
	v := &view{name: "db", replicas: 3, regions: map[string]string{"eu-1": "eu-west", "us-1": "us-east"}}
	at := time.Unix(100, 0)
	tests := []struct {
		name    string
		req     request
		want    failover.Event
		wantErr string
	}{
		{name: "replica", req: request{kind: v1alpha1.RequestSwitchover, to: "db-2"},
			want: failover.SwitchoverRequested{To: failover.Target{Replica: "db-2"}, At: at}},
		{name: "cluster", req: request{kind: v1alpha1.RequestSwitchover, to: "us-1"},
			want: failover.SwitchoverRequested{To: failover.Target{Cluster: "us-1"}, At: at}},
		{name: "region", req: request{kind: v1alpha1.RequestSwitchover, to: "eu-west"},
			want: failover.SwitchoverRequested{To: failover.Target{Region: "eu-west"}, At: at}},
		{name: "anywhere", req: request{kind: v1alpha1.RequestSwitchover},
			want: failover.SwitchoverRequested{At: at}},
		{name: "unknown target", req: request{kind: v1alpha1.RequestSwitchover, to: "mars"}, wantErr: "no replica, member cluster or region named mars"},
		{name: "scaled-away replica", req: request{kind: v1alpha1.RequestSwitchover, to: "db-3"}, wantErr: "no replica, member cluster or region named db-3"},
		{name: "failover to a replica", req: request{kind: v1alpha1.RequestFailover, to: "db-1", acceptDataLoss: true},
			want: failover.FailoverRequested{To: "db-1", AcceptDataLoss: true, At: at}},
		{name: "failover to a cluster", req: request{kind: v1alpha1.RequestFailover, to: "us-1"}, wantErr: "no replica us-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.req.event(v, at)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("event = %v, %v; want an error about %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("event = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	stable := func(epoch uint64) failover.State {
		return failover.State{Epoch: epoch, Primary: "db-1", Phase: failover.Phase{Name: failover.Stable},
			Replicas: []failover.Replica{{Name: "db-1", Cluster: "us-1"}}, Condition: failover.Condition{Message: "db-1 (us-1) is primary"}}
	}
	with := func(s failover.State, ph failover.Phase) failover.State { s.Phase = ph; return s }
	switchover := v1alpha1.RequestStatus{Kind: v1alpha1.RequestSwitchover, Epoch: 4}
	fo := v1alpha1.RequestStatus{Kind: v1alpha1.RequestFailover, Epoch: 4}
	tests := []struct {
		name  string
		rs    v1alpha1.RequestStatus
		state failover.State
		want  v1alpha1.RequestPhase
	}{
		{name: "switching over", rs: switchover, state: with(stable(4), failover.Phase{Name: failover.SwitchingOver}), want: v1alpha1.RequestAccepted},
		{name: "switchover committing", rs: switchover, state: with(stable(4), failover.Phase{Name: failover.Promoting, Cause: failover.CauseSwitchover}), want: v1alpha1.RequestAccepted},
		{name: "switchover committed, not confirmed", rs: switchover, state: with(stable(5), failover.Phase{Name: failover.Promoting, Committed: true}), want: v1alpha1.RequestAccepted},
		{name: "switchover done", rs: switchover, state: stable(5), want: v1alpha1.RequestSucceeded},
		{name: "switchover aborted", rs: switchover, state: with(stable(4), failover.Phase{Name: failover.PrimaryLost, Cause: failover.CauseSwitchoverAborted}), want: v1alpha1.RequestFailed},
		{name: "switchover back to stable", rs: switchover, state: stable(4), want: v1alpha1.RequestFailed},
		{name: "failover committing", rs: fo, state: with(stable(4), failover.Phase{Name: failover.Promoting}), want: v1alpha1.RequestAccepted},
		{name: "failover not committed", rs: fo, state: with(stable(4), failover.Phase{Name: failover.NoCandidate}), want: v1alpha1.RequestFailed},
		{name: "failover done", rs: fo, state: stable(6), want: v1alpha1.RequestSucceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, msg := outcome(&tc.rs, &tc.state); got != tc.want {
				t.Errorf("outcome = %s (%s), want %s", got, msg, tc.want)
			}
		})
	}
}

// FuzzParseRequest reads any annotation value: the request always has an
// id to be recorded under in status (the API server keeps at most 253
// characters of valid UTF-8, so an id that is not valid UTF-8 would read
// back different and the request would be acted on again); an accepted
// one has a valid id and reads back the same from its canonical form.
func FuzzParseRequest(f *testing.F) {
	f.Add(false, "id=s1,to=us-1")
	f.Add(true, " id=f1 , acceptDataLoss=true,to=db-2")
	f.Add(true, "acceptDataLoss=yes,id=f1,id=f2")
	f.Add(false, "")
	f.Add(false, strings.Repeat("é", 40))
	f.Add(false, "id="+strings.Repeat("x", 64))
	f.Fuzz(func(t *testing.T, failover bool, value string) {
		kind := v1alpha1.RequestSwitchover
		if failover {
			kind = v1alpha1.RequestFailover
		}
		r := parseRequest(kind, value)
		if r.kind != kind {
			t.Fatalf("parse %q: kind %s, want %s", value, r.kind, kind)
		}
		if r.id == "" || len(r.id) > 63 || (utf8.ValidString(value) && !utf8.ValidString(r.id)) {
			t.Fatalf("parse %q: id %q cannot be recorded in status", value, r.id)
		}
		if r.err != nil {
			return
		}
		if !requestID.MatchString(r.id) {
			t.Fatalf("parse %q: accepted id %q", value, r.id)
		}
		canonical := "id=" + r.id
		if r.to != "" {
			canonical += ",to=" + r.to
		}
		if failover {
			canonical += ",acceptDataLoss=" + strconv.FormatBool(r.acceptDataLoss)
		}
		if again := parseRequest(kind, canonical); again != r {
			t.Fatalf("parse %q = %+v; its canonical form %q = %+v", value, r, canonical, again)
		}
	})
}
