package failover

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEncodeRoundTrip(t *testing.T) {
	both := func(s *State) { bytesBudget(16 * mib)(s); timeBudget(5 * time.Second)(s) }
	states := map[string]State{
		"stable":       fixture(),
		"failed over":  failedOver(both),
		"switching":    switching(),
		"no candidate": lagging(both, func(s *State) { s.Policy.SyncReplicas, s.Policy.SyncScope = 1, SyncOtherRegion }),
		"committed":    promoting(func(s *State) { s.Policy.StepTimeout = time.Minute }),
	}
	for name, s := range states {
		t.Run(name, func(t *testing.T) {
			data, err := Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, s)
			}
			again, err := Encode(got)
			if err != nil || string(again) != string(data) {
				t.Fatalf("encoding is not stable (%v):\n%s\n%s", err, data, again)
			}
		})
	}
}

// TestEncodeFieldNames pins the stored form: its field names are an
// interface with every hub version that reads it.
func TestEncodeFieldNames(t *testing.T) {
	grace := 5 * time.Second
	s := State{Service: "db", Policy: Policy{Mode: Manual, DetectionGrace: grace}, Epoch: 1, Primary: "db-0",
		Phase:    Phase{Name: Stable},
		Replicas: []Replica{{Name: "db-0", Cluster: "eu-1", Healthy: true, Reachable: true, Role: RolePrimary, Epoch: 1, Position: 42, ReportedAt: t0}},
	}
	data, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"service":"db","policy":{"mode":"Manual","detectionGraceNs":5000000000},"epoch":1,"primary":"db-0",` +
		`"phase":{"name":"Stable"},"replicas":[{"name":"db-0","cluster":"eu-1","healthy":true,"reachable":true,"role":"Primary",` +
		`"epoch":1,"position":42,"reportedAt":"2026-03-01T12:00:00Z"}]}`
	if string(data) != want {
		t.Errorf("stored form\n got %s\nwant %s", data, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{name: "not JSON", data: `{`, want: []string{"unexpected EOF"}},
		{name: "unknown field", data: `{"version":1,"extra":true}`, want: []string{`unknown field "extra"`}},
		{name: "trailing data", data: `{"version":1,"policy":{"mode":"Manual"},"epoch":0,"phase":{"name":"PrimaryLost"}} {}`, want: []string{"data after the state"}},
		{name: "other version", data: `{"version":2}`, want: []string{"format version 2, want 1"}},
		{
			name: "every inconsistency at once",
			data: `{"version":1,"policy":{"mode":"Sometimes","syncScope":"Near","syncReplicas":-1,"detectionGraceNs":-1},` +
				`"epoch":4,"primary":"db-9","phase":{"name":"Promoting","candidate":"db-1","epoch":9},` +
				`"allowed":["b","a"],"replicas":[{"name":"db-1"},{"name":"db-0"},{"name":"db-1"},{"name":""}]}`,
			want: []string{
				`policy.mode "Sometimes"`, `policy.syncScope "Near"`, "policy.syncReplicas -1", "durations must not be negative",
				"replicas[1]: db-0 out of name order", "replicas[2]: db-1 listed twice", "replicas[3]: empty name",
				"primary db-9: not a replica", "allowed: must be sorted", "promotion to epoch 9 from epoch 4",
			},
		},
		{name: "committed promotion of another primary", data: `{"version":1,"policy":{"mode":"Automatic"},"epoch":5,"primary":"db-0",` +
			`"phase":{"name":"Promoting","candidate":"db-1","epoch":5,"committed":true},"replicas":[{"name":"db-0"},{"name":"db-1"}]}`,
			want: []string{"committed promotion of db-1 in epoch 5, but etcd's primary is db-0 in epoch 5"}},
		{name: "switchover from a non-primary", data: `{"version":1,"policy":{"mode":"Automatic"},"epoch":5,"primary":"db-0",` +
			`"phase":{"name":"SwitchingOver","step":"Demoting","from":"db-1","candidate":"db-1"},"replicas":[{"name":"db-0"},{"name":"db-1"}]}`,
			want: []string{`switchover from "db-1", but the primary is "db-0"`}},
		{name: "epoch beyond the API", data: `{"version":1,"policy":{"mode":"Automatic"},"epoch":9223372036854775807,"phase":{"name":"NoCandidate"}}`,
			want: []string{"must stay below 2^63-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.data))
			if !errors.Is(err, ErrInvalidState) {
				t.Fatalf("error %v does not wrap ErrInvalidState", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
