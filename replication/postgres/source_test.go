package postgres

import (
	"fmt"
	"testing"
)

func TestParseIdentify(t *testing.T) {
	tests := []struct {
		name string
		row  []string
		want source
		ok   bool
	}{
		{name: "server row", row: []string{"7711356746211298050", "3", "0/50000A0", ""},
			want: source{SystemID: 7711356746211298050, Timeline: 3, Position: 0x50000A0}, ok: true},
		{name: "short row", row: []string{"1", "1"}},
		{name: "bad systemid", row: []string{"x", "1", "0/0"}},
		{name: "timeline 0", row: []string{"1", "0", "0/0"}},
		{name: "bad position", row: []string{"1", "1", "0-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIdentify(tt.row)
			if (err == nil) != tt.ok || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("parseIdentify(%q) = %+v, %v; want %+v, ok=%v", tt.row, got, err, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseIdentify(f *testing.F) {
	f.Add("7711356746211298050", "3", "0/50000A0")
	f.Fuzz(func(t *testing.T, sysid, tli, pos string) {
		src, err := parseIdentify([]string{sysid, tli, pos, "postgres"})
		if err != nil {
			return
		}
		back, err := parseIdentify([]string{fmt.Sprint(src.SystemID), fmt.Sprint(src.Timeline), src.Position.String()})
		if err != nil || fmt.Sprint(back) != fmt.Sprint(src) {
			t.Fatalf("reparse of %+v = %+v, %v", src, back, err)
		}
	})
}

func TestDecodeHistoryContent(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "text", in: "1\t0/3000148\treason\n", want: "1\t0/3000148\treason\n"},
		{name: "bytea hex", in: `\x3109302f31300a`, want: "1\t0/10\n"},
		{name: "bad hex stays", in: `\xzz`, want: `\xzz`},
	}
	for _, tt := range tests {
		if got := decodeHistoryContent(tt.in); got != tt.want {
			t.Errorf("%s: decodeHistoryContent(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func FuzzDecodeHistoryContent(f *testing.F) {
	f.Add(`\x3109302f31300a`)
	f.Add("1\t0/10\n")
	f.Fuzz(func(t *testing.T, s string) {
		// Whatever the server sends, the decoded history parses or fails
		// cleanly, and text without the hex prefix is kept as it is.
		got := decodeHistoryContent(s)
		if len(s) < 2 || s[:2] != `\x` {
			if got != s {
				t.Fatalf("decodeHistoryContent(%q) = %q, want it unchanged", s, got)
			}
		}
		_, _ = parseHistory(got)
	})
}
