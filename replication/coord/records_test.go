package coord

import (
	"strings"
	"testing"
	"time"
)

func TestReportRoundTrip(t *testing.T) {
	r := Report{Role: RoleSyncStandby, Position: 1<<64 - 1, Timeline: 7,
		Time: time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC), Epoch: 4, Agent: "agent-eu", Cluster: "eu-1"}
	s, err := encode(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeReport([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(r.Time) || got.Position != r.Position {
		t.Fatalf("round trip: %+v, want %+v", got, r)
	}
	got.Time = r.Time
	if got != r {
		t.Fatalf("round trip: %+v, want %+v", got, r)
	}
}

func TestRecordsRejectBadValues(t *testing.T) {
	tests := []struct {
		name   string
		decode func([]byte) error
		value  string
		want   string
	}{
		{name: "report role", decode: decodeAs[Report], value: `{"role":"Leader","time":"2026-01-01T00:00:00Z","agent":"a","cluster":"c"}`, want: "role"},
		{name: "report without time", decode: decodeAs[Report], value: `{"role":"Primary","agent":"a","cluster":"c"}`, want: "time"},
		{name: "report trailing data", decode: decodeAs[Report], value: `{"role":"Primary"} {}`, want: "trailing"},
		{name: "primary epoch 0", decode: decodeAs[Primary], value: `{"replica":1,"epoch":0}`, want: "epoch"},
		{name: "primary negative replica", decode: decodeAs[Primary], value: `{"replica":-1,"epoch":2}`, want: "replica"},
		{name: "holder agent", decode: decodeAs[Holder], value: `{"replica":1,"epoch":2,"agent":"A"}`, want: "agent"},
		{name: "agent info cluster", decode: decodeAs[AgentInfo], value: `{"cluster":"","started":"2026-01-01T00:00:00Z"}`, want: "cluster"},
		{name: "too large", decode: decodeAs[Primary], value: `{"replica":1,"epoch":2` + strings.Repeat(" ", maxRecordBytes) + `}`, want: "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode([]byte(tc.value))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decode = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

// decodeAs decodes b as a T and returns only the error.
func decodeAs[T any, P interface {
	*T
	validator
}](b []byte) error {
	return decode(b, P(new(T)))
}

func TestEpochForm(t *testing.T) {
	for _, e := range []int64{1, 9, 10, 1 << 62} {
		got, err := parseEpoch([]byte(formatEpoch(e)))
		if err != nil || got != e {
			t.Errorf("parseEpoch(formatEpoch(%d)) = %d, %v", e, got, err)
		}
	}
	for _, s := range []string{"", "0", "-1", "01", "+1", "1 ", "x"} {
		if _, err := parseEpoch([]byte(s)); err == nil {
			t.Errorf("parseEpoch(%q) accepted", s)
		}
	}
}
