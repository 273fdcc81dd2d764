package postgres

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseLSN(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want LSN
		ok   bool
	}{
		{name: "zero", in: "0/0", want: 0, ok: true},
		{name: "server example", in: "16/B374D848", want: 0x16_B374D848, ok: true},
		{name: "lower case", in: "16/b374d848", want: 0x16_B374D848, ok: true},
		{name: "leading zeros", in: "00000016/0000000A", want: 0x16_0000000A, ok: true},
		{name: "largest", in: "FFFFFFFF/FFFFFFFF", want: ^LSN(0), ok: true},
		{name: "empty", in: ""},
		{name: "no slash", in: "16B374D848"},
		{name: "empty high half", in: "/1"},
		{name: "empty low half", in: "1/"},
		{name: "nine digits", in: "123456789/0"},
		{name: "two slashes", in: "1/2/3"},
		{name: "not hexadecimal", in: "g/0"},
		{name: "sign", in: "+1/0"},
		{name: "prefix", in: "0x1/0"},
		{name: "space", in: " 1/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLSN(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseLSN(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestLSNStringAndText(t *testing.T) {
	tests := []struct {
		name string
		lsn  LSN
		want string
	}{
		{name: "invalid", lsn: InvalidLSN, want: "0/0"},
		{name: "low half only", lsn: 0x3000148, want: "0/3000148"},
		{name: "both halves", lsn: 0x16_B374D848, want: "16/B374D848"},
		{name: "largest", lsn: ^LSN(0), want: "FFFFFFFF/FFFFFFFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lsn.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			b, err := json.Marshal(struct{ L LSN }{tt.lsn})
			if err != nil || string(b) != `{"L":"`+tt.want+`"}` {
				t.Errorf("json = %s, %v", b, err)
			}
			var back struct{ L LSN }
			if err := json.Unmarshal(b, &back); err != nil || back.L != tt.lsn {
				t.Errorf("json round trip = %v, %v; want %v", back.L, err, tt.lsn)
			}
		})
	}
}

func TestLSNSub(t *testing.T) {
	tests := []struct {
		name string
		a, b LSN
		want uint64
	}{
		{name: "ahead", a: 0x1_00000010, b: 0x0_FFFFFFF0, want: 0x20},
		{name: "equal", a: 5, b: 5, want: 0},
		{name: "behind", a: 5, b: 9, want: 0},
	}
	for _, tt := range tests {
		if got := tt.a.Sub(tt.b); got != tt.want {
			t.Errorf("%s: %v.Sub(%v) = %d, want %d", tt.name, tt.a, tt.b, got, tt.want)
		}
	}
}

// canonicalLSN is the server's spelling of a valid LSN text: upper case,
// no leading zeros in either half.
func canonicalLSN(s string) string {
	hi, lo, _ := strings.Cut(strings.ToUpper(s), "/")
	trim := func(h string) string {
		if h = strings.TrimLeft(h, "0"); h == "" {
			return "0"
		}
		return h
	}
	return trim(hi) + "/" + trim(lo)
}

func FuzzParseLSN(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "ffffffff/0", "1/", "0x1/2", "123456789/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLSN(s)
		if err != nil {
			return
		}
		if got := l.String(); got != canonicalLSN(s) {
			t.Fatalf("ParseLSN(%q).String() = %q, want %q", s, got, canonicalLSN(s))
		}
		if back, err := ParseLSN(l.String()); err != nil || back != l {
			t.Fatalf("round trip of %q = %v, %v", s, back, err)
		}
	})
}

func FuzzLSNString(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(0x16_B374D848))
	f.Fuzz(func(t *testing.T, v uint64) {
		if back, err := ParseLSN(LSN(v).String()); err != nil || back != LSN(v) {
			t.Fatalf("ParseLSN(%q) = %v, %v; want %v", LSN(v).String(), back, err, LSN(v))
		}
	})
}
