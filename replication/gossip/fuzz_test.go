package gossip

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzDecodeMeta checks that DecodeMeta never panics and accepts only
// canonical encodings: whatever it accepts encodes back to the same bytes.
func FuzzDecodeMeta(f *testing.F) {
	for _, m := range []Meta{
		{Role: RoleHub},
		{Role: RoleAgent, Cluster: "eu-1", Region: "eu-west", Payload: []byte("session-694d")},
		{Role: RoleAgent, Cluster: "us-1", Leaving: true},
	} {
		b, err := m.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, flagHub, 0x80, 0x00, 0, 0})
	f.Add([]byte{1, flagAgent, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		back, err := m.Encode()
		if err != nil {
			t.Fatalf("DecodeMeta(%x) = %+v, which does not encode: %v", b, m, err)
		}
		if !bytes.Equal(back, b) {
			t.Fatalf("DecodeMeta(%x) = %+v, which encodes to %x", b, m, back)
		}
	})
}

// FuzzParseKeyring checks that ParseKeyring never panics, returns only
// distinct keys of KeySize bytes, and reads back what FormatKeyring wrote.
func FuzzParseKeyring(f *testing.F) {
	f.Add("# primary\n" + b64(1) + "\n" + b64(2) + "\n")
	f.Add(b64(3) + "\r\n\n  # x\n")
	f.Add("====\n")
	f.Fuzz(func(t *testing.T, in string) {
		keys, err := ParseKeyring(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatalf("ParseKeyring(%q) = no keys and no error", in)
		}
		for i, k := range keys {
			if len(k) != KeySize {
				t.Fatalf("ParseKeyring(%q): key %d has %d bytes", in, i, len(k))
			}
			if slices.ContainsFunc(keys[:i], func(o []byte) bool { return bytes.Equal(o, k) }) {
				t.Fatalf("ParseKeyring(%q): key %d repeated", in, i)
			}
		}
		again, err := ParseKeyring(bytes.NewReader(FormatKeyring(keys)))
		if err != nil || !slices.EqualFunc(again, keys, bytes.Equal) {
			t.Fatalf("ParseKeyring(FormatKeyring(keys)) = %x, %v; want %x", again, err, keys)
		}
	})
}

// FuzzParseSignal checks the reader of memberlist's failure detector log
// lines: the lines memberlist writes about any valid node name read back
// as written, and any line it accepts names a node (no spaces, not empty)
// that the canonical line of the same signal names too.
func FuzzParseSignal(f *testing.F) {
	f.Add("eu-1", uint16(2), "[INFO] memberlist: Marking ap-1 as failed, suspect timeout reached (02 peer confirmations)")
	f.Add("hub-0.fedstate", uint16(0), "[DEBUG] memberlist: Failed UDP ping:  (timeout reached)")
	f.Add("x", uint16(7), "[INFO] memberlist: Suspect  has failed, no acks received")
	f.Add("a", uint16(1), "[INFO] memberlist: Marking a as failed, suspect timeout reached (-1 peer confirmations)")
	f.Fuzz(func(t *testing.T, node string, n uint16, line string) {
		if len(validation.IsDNS1123Subdomain(node)) == 0 {
			for _, tc := range []struct {
				line string
				want signal
			}{
				{fmt.Sprintf(fmtDirectMiss, node), signal{kind: sigDirectMiss, node: node}},
				{fmt.Sprintf(fmtProbeFailed, node), signal{kind: sigProbeFailed, node: node}},
				{fmt.Sprintf(fmtDeclared, node, n), signal{kind: sigDeclared, node: node, confirmations: int(n)}},
			} {
				if got, ok := parseSignal(tc.line); !ok || got != tc.want {
					t.Fatalf("parseSignal(%q) = %+v, %v; want %+v", tc.line, got, ok, tc.want)
				}
			}
		}
		s, ok := parseSignal(line)
		if !ok {
			return
		}
		if s.node == "" || strings.ContainsAny(s.node, " ") || s.confirmations < 0 {
			t.Fatalf("parseSignal(%q) = %+v", line, s)
		}
		var canonical string
		switch s.kind {
		case sigDirectMiss:
			canonical = fmt.Sprintf(fmtDirectMiss, s.node)
		case sigProbeFailed:
			canonical = fmt.Sprintf(fmtProbeFailed, s.node)
		case sigDeclared:
			canonical = fmt.Sprintf(fmtDeclared, s.node, s.confirmations)
		default:
			t.Fatalf("parseSignal(%q): kind %d", line, s.kind)
		}
		if again, ok := parseSignal(canonical); !ok || again != s {
			t.Fatalf("parseSignal(%q) = %+v; its canonical line %q = %+v, %v", line, s, canonical, again, ok)
		}
	})
}
