package gossip

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMetaRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
	}{
		{name: "hub", meta: Meta{Role: RoleHub, Region: "eu-west"}},
		{name: "agent", meta: Meta{Role: RoleAgent, Cluster: "eu-1", Region: "eu-west", Payload: []byte("694d8b2f1a")}},
		{name: "leaving", meta: Meta{Role: RoleAgent, Cluster: "us-1", Leaving: true}},
		{name: "largest payload", meta: Meta{Role: RoleAgent, Cluster: "c", Payload: bytes.Repeat([]byte{0xff}, MaxMetaSize-2-1-1-1-2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.meta.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeMeta(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.meta) {
				t.Fatalf("DecodeMeta(Encode(%+v)) = %+v", tt.meta, got)
			}
		})
	}
}

func TestMetaEncodeLimits(t *testing.T) {
	m := Meta{Role: RoleAgent, Cluster: "c", Payload: bytes.Repeat([]byte{1}, MaxMetaSize-6)}
	if _, err := m.Encode(); !errors.Is(err, ErrMetaTooLarge) {
		t.Errorf("Encode of %d bytes of payload = %v, want ErrMetaTooLarge", len(m.Payload), err)
	}
	if _, err := (Meta{Role: "primary"}).Encode(); err == nil {
		t.Error("Encode with an unknown role: no error")
	}
}

func TestDecodeMetaRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{name: "empty", in: nil, want: "too short"},
		{name: "version", in: []byte{2, flagHub, 0, 0, 0}, want: "unknown version"},
		{name: "unknown flag", in: []byte{1, flagHub | 0x80, 0, 0, 0}, want: "unknown flags"},
		{name: "no role", in: []byte{1, 0, 0, 0, 0}, want: "no single role"},
		{name: "two roles", in: []byte{1, flagHub | flagAgent, 0, 0, 0}, want: "no single role"},
		{name: "missing field", in: []byte{1, flagHub, 0, 0}, want: "field 2"},
		{name: "length past end", in: []byte{1, flagHub, 5, 'a'}, want: "field 0: bad length"},
		{name: "long form length", in: []byte{1, flagHub, 0x80, 0x00, 0, 0}, want: "shortest form"},
		{name: "trailing", in: []byte{1, flagHub, 0, 0, 0, 9}, want: "trailing"},
		{name: "too large", in: make([]byte, MaxMetaSize+1), want: "larger than 512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeMeta(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeMeta(%x) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}
