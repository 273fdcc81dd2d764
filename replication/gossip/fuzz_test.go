package gossip

import (
	"bytes"
	"slices"
	"strings"
	"testing"
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
