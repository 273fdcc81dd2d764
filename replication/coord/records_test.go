package coord

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReportRoundTrip(t *testing.T) {
	r := Report{Role: RolePrimary, Position: 1<<64 - 1, Timeline: 7,
		Time: time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC), Epoch: 4, Agent: "agent-eu", Cluster: "eu-1",
		SyncAcks: []SyncAck{{Replica: 2, Position: 1 << 40}}}
	for _, lost := range []*LostLog{nil, {Epoch: 3, Timeline: 2, Fork: 1 << 33, Bytes: 4096, Transactions: 7,
		MeasuredAt: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC)}} {
		r.Lost = lost
		roundTrip(t, r)
	}
}

// roundTrip encodes and decodes r and checks it comes back the same.
func roundTrip(t *testing.T, r Report) {
	t.Helper()
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
	if !reflect.DeepEqual(got, r) {
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
		{name: "sync acks of a standby", decode: decodeAs[Report], value: `{"role":"SyncStandby","time":"2026-01-01T00:00:00Z","agent":"a","cluster":"c","syncAcks":[{"replica":1,"position":5}]}`, want: "syncAcks"},
		{name: "sync ack of a negative replica", decode: decodeAs[Report], value: `{"role":"Primary","time":"2026-01-01T00:00:00Z","agent":"a","cluster":"c","syncAcks":[{"replica":-1,"position":5}]}`, want: "syncAcks[0]"},
		{name: "lost log without epoch", decode: decodeAs[Report], value: `{"role":"AsyncReplica","time":"2026-01-01T00:00:00Z","agent":"a","cluster":"c","lost":{"bytes":5,"measuredAt":"2026-01-01T00:00:00Z"}}`, want: "lost: epoch"},
		{name: "lost log without time", decode: decodeAs[Report], value: `{"role":"AsyncReplica","time":"2026-01-01T00:00:00Z","agent":"a","cluster":"c","lost":{"epoch":2,"bytes":5}}`, want: "measuredAt"},
		{name: "command kind", decode: decodeAs[Command], value: `{"kind":"Reboot","epoch":2,"primary":1,"cluster":"c","issued":"2026-01-01T00:00:00Z"}`, want: "kind"},
		{name: "command epoch 0", decode: decodeAs[Command], value: `{"kind":"Follow","epoch":0,"primary":1,"cluster":"c","issued":"2026-01-01T00:00:00Z"}`, want: "epoch"},
		{name: "command init after epoch 1", decode: decodeAs[Command], value: `{"kind":"Init","epoch":3,"primary":1,"cluster":"c","issued":"2026-01-01T00:00:00Z"}`, want: "init"},
		{name: "command position outside WaitReplay", decode: decodeAs[Command], value: `{"kind":"Follow","epoch":2,"primary":1,"position":7,"cluster":"c","issued":"2026-01-01T00:00:00Z"}`, want: "position"},
		{name: "command cluster", decode: decodeAs[Command], value: `{"kind":"Fence","epoch":2,"primary":1,"cluster":"C","issued":"2026-01-01T00:00:00Z"}`, want: "cluster"},
		{name: "command without issue time", decode: decodeAs[Command], value: `{"kind":"Fence","epoch":2,"primary":1,"cluster":"c"}`, want: "issued"},
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

// TestCommandForm pins the stored form of a command: agents of other
// teams parse it (see the package documentation).
func TestCommandForm(t *testing.T) {
	c := Command{Kind: CommandWaitReplay, Epoch: 7, Primary: 0, Position: 123456, Cluster: "eu-1",
		Issued: time.Date(2026, 3, 1, 12, 0, 0, 500000000, time.UTC)}
	b, err := EncodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"WaitReplay","epoch":7,"primary":0,"position":123456,"cluster":"eu-1","issued":"2026-03-01T12:00:00.5Z"}`
	if string(b) != want {
		t.Fatalf("stored form\n got %s\nwant %s", b, want)
	}
	got, err := DecodeCommand(append(b[:len(b)-1:len(b)-1], []byte(`,"future":true}`)...))
	if err != nil {
		t.Fatalf("decode with an unknown field: %v", err)
	}
	if !got.Same(c) || !got.Issued.Equal(c.Issued) {
		t.Fatalf("round trip: %+v, want %+v", got, c)
	}
	later := c
	later.Issued = c.Issued.Add(time.Hour)
	if !later.Same(c) {
		t.Error("commands differing only in Issued are not the Same")
	}
	other := c
	other.Position++
	if other.Same(c) {
		t.Error("commands with different positions are the Same")
	}
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
