package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestDefaultMembersValid(t *testing.T) {
	if err := DefaultMembers().Validate(); err != nil {
		t.Fatalf("DefaultMembers().Validate() = %v, want nil", err)
	}
}

func TestMembersValidateReportsEveryBadField(t *testing.T) {
	tests := []struct {
		name string
		cfg  Members
		want []string // one substring per expected error line
	}{
		{
			name: "all zero",
			cfg:  Members{},
			want: []string{
				"members.probeInterval: must be > 0",
				"members.probeTimeout: must be > 0 and < probeInterval",
				"members.failureThreshold: must be >= 1",
				"members.qps: must be > 0",
				"members.burst: must be >= 1",
			},
		},
		{
			name: "timeout not below interval",
			cfg:  Members{ProbeInterval: time.Second, ProbeTimeout: time.Second, FailureThreshold: 1, QPS: 1, Burst: 1},
			want: []string{"members.probeTimeout: must be > 0 and < probeInterval (1s), got 1s"},
		},
		{
			name: "negative numbers",
			cfg:  Members{ProbeInterval: -time.Second, ProbeTimeout: time.Millisecond, FailureThreshold: -1, QPS: -5, Burst: 0},
			want: []string{
				"members.probeInterval: must be > 0, got -1s",
				"members.probeTimeout",
				"members.failureThreshold: must be >= 1, got -1",
				"members.qps: must be > 0, got -5",
				"members.burst: must be >= 1, got 0",
			},
		},
		{
			name: "only burst",
			cfg:  func() Members { m := DefaultMembers(); m.Burst = 0; return m }(),
			want: []string{"members.burst: must be >= 1, got 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %d errors", len(tt.want))
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("Validate() reported %d errors, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestMembersJSONRoundTrip(t *testing.T) {
	in := DefaultMembers()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"probeInterval":"10s"`) {
		t.Errorf("json.Marshal = %s, want probeInterval as a duration string", raw)
	}
	var out Members
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
}

func TestMembersYAMLOverridesDefaults(t *testing.T) {
	type file struct {
		Members Members `json:"members"`
	}
	f := file{Members: DefaultMembers()}
	err := yaml.Unmarshal([]byte("members:\n  probeInterval: 2s\n  burst: 7\n"), &f)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultMembers()
	want.ProbeInterval, want.Burst = 2*time.Second, 7
	if f.Members != want {
		t.Errorf("decoded %+v, want %+v", f.Members, want)
	}
}

func TestMembersUnmarshalRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "unknown field", in: `{"probeIntervall":"1s"}`, want: "unknown field"},
		{name: "bad duration", in: `{"probeInterval":"soon","probeTimeout":"1x"}`, want: "members.probeTimeout"},
		{name: "number for duration", in: `{"probeTimeout":3}`, want: "cannot unmarshal number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Members
			err := json.Unmarshal([]byte(tt.in), &m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unmarshal(%s) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}
