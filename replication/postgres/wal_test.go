package postgres

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseWALFileName(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		timeline uint32
		segment  uint64
		ok       bool
	}{
		{name: "first", in: "000000010000000000000001", timeline: 1, segment: 1, ok: true},
		{name: "high segment", in: "0000000A00000016000000B3", timeline: 10, segment: 0x16_000000B3, ok: true},
		{name: "history file", in: "00000002.history"},
		{name: "lower case", in: "0000000a0000000000000001"},
		{name: "timeline 0", in: "000000000000000000000001"},
		{name: "short", in: "00000001000000000000001"},
		{name: "partial", in: "000000010000000000000001.partial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tli, seg, err := parseWALFileName(tt.in)
			if (err == nil) != tt.ok || tli != tt.timeline || seg != tt.segment {
				t.Errorf("parseWALFileName(%q) = %d, %d, %v; want %d, %d, ok=%v", tt.in, tli, seg, err, tt.timeline, tt.segment, tt.ok)
			}
		})
	}
}

func FuzzParseWALFileName(f *testing.F) {
	f.Add("000000010000000000000001")
	f.Add("00000002.history")
	f.Fuzz(func(t *testing.T, s string) {
		tli, seg, err := parseWALFileName(s)
		if err != nil {
			return
		}
		if back := fmt.Sprintf("%08X%08X%08X", tli, seg>>32, seg&0xFFFFFFFF); back != s {
			t.Fatalf("parseWALFileName(%q) = %d, %d, which prints as %q", s, tli, seg, back)
		}
	})
}

func TestParseHistory(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []fork
		ok   bool
	}{
		{name: "empty", in: "", ok: true},
		{name: "server file", in: "1\t0/3000148\tno recovery target specified\n\n2\t0/50000A0\tno recovery target specified\n",
			want: []fork{{1, 0x3000148}, {2, 0x50000A0}}, ok: true},
		{name: "comments and no reason", in: "# a comment\n  1 0/10  \n", want: []fork{{1, 0x10}}, ok: true},
		{name: "timelines must increase", in: "2\t0/10\tx\n1\t0/20\tx\n"},
		{name: "timeline 0", in: "0\t0/10\tx\n"},
		{name: "no position", in: "1\n"},
		{name: "bad position", in: "1\tzz\tx\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHistory(tt.in)
			if (err == nil) != tt.ok || !slices.Equal(got, tt.want) {
				t.Errorf("parseHistory = %v, %v; want %v, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseHistory(f *testing.F) {
	f.Add("1\t0/3000148\tno recovery target specified\n2\t0/50000A0\treason\n")
	f.Add("# comment\n\n1 0/0\n")
	f.Fuzz(func(t *testing.T, s string) {
		forks, err := parseHistory(s)
		if err != nil {
			return
		}
		var b strings.Builder
		for i, fk := range forks {
			if fk.Timeline == 0 || (i > 0 && fk.Timeline <= forks[i-1].Timeline) {
				t.Fatalf("parseHistory(%q) accepted timelines %v", s, forks)
			}
			fmt.Fprintf(&b, "%d\t%v\treason\n", fk.Timeline, fk.Switch)
		}
		back, err := parseHistory(b.String())
		if err != nil || !slices.Equal(back, forks) {
			t.Fatalf("reparse of %v = %v, %v", forks, back, err)
		}
	})
}

func TestParseControlData(t *testing.T) {
	sample, err := os.ReadFile("testdata/controldata.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := controlData{SystemID: 7711356746211298050, State: stateShutDownInRecovery,
		Checkpoint: 0x1500708, CheckpointTimeline: 2, MinRecovery: 0x3000148, MinRecoveryTimeline: 3}
	tests := []struct {
		name string
		in   string
		want controlData
		ok   bool
	}{
		{name: "pg_controldata 15", in: string(sample), want: want, ok: true},
		{name: "empty", in: ""},
		{name: "missing state", in: strings.Replace(string(sample), "Database cluster state:", "Cluster:", 1)},
		{name: "bad checkpoint", in: strings.Replace(string(sample), "0/1500708\n", "0/15007G8\n", 1)},
		{name: "bad identifier", in: strings.Replace(string(sample), "7711356746211298050", "-1", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseControlData(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseControlData = %+v, %v; want %+v, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseControlData(f *testing.F) {
	sample, err := os.ReadFile("testdata/controldata.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample))
	f.Add("Database cluster state: shut down\n")
	f.Fuzz(func(t *testing.T, s string) {
		cd, err := parseControlData(s)
		if err != nil {
			return
		}
		// Every field came from its line: printing them back parses the same.
		back, err := parseControlData(fmt.Sprintf("Database system identifier: %d\nDatabase cluster state: %s\n"+
			"Latest checkpoint location: %v\nLatest checkpoint's TimeLineID: %d\n"+
			"Minimum recovery ending location: %v\nMin recovery ending loc's timeline: %d\n",
			cd.SystemID, cd.State, cd.Checkpoint, cd.CheckpointTimeline, cd.MinRecovery, cd.MinRecoveryTimeline))
		if err != nil || back != cd {
			t.Fatalf("reparse of %+v = %+v, %v", cd, back, err)
		}
	})
}
