package dnsserver

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestRecordValidation(t *testing.T) {
	tests := []struct {
		name    string
		encode  func() ([]byte, error)
		wantErr string
	}{
		{name: "valid replica", encode: func() ([]byte, error) {
			return EncodeReplica(Replica{Cluster: "eu-1", Region: "eu", Role: RoleSyncStandby, Ready: true,
				Addresses: []netip.Addr{netip.MustParseAddr("127.12.0.2"), netip.MustParseAddr("::1")}})
		}},
		{name: "replica with every field wrong", encode: func() ([]byte, error) {
			return EncodeReplica(Replica{Cluster: "EU", Role: "Leader",
				Addresses: []netip.Addr{netip.MustParseAddr("::ffff:1.2.3.4"), {}}})
		}, wantErr: `cluster "EU": not a DNS-1123 label
region "": must be 1-63 characters
role "Leader": not SyncStandby, AsyncReplica or Fenced
addresses[0] ::ffff:1.2.3.4: not a plain unicast IPv4 or IPv6 address
addresses[1] invalid IP: not a plain unicast IPv4 or IPv6 address`},
		{name: "duplicate address", encode: func() ([]byte, error) {
			a := netip.MustParseAddr("127.0.0.2")
			return EncodeReplica(Replica{Cluster: "c", Region: "r", Role: RoleFenced, Addresses: []netip.Addr{a, a}})
		}, wantErr: "addresses[1] 127.0.0.2: duplicate"},
		{name: "ports", encode: func() ([]byte, error) {
			return EncodeService(Service{Ports: []Port{{Name: "postgresql-mains", Protocol: "tcp", Port: 5432},
				{Name: "pg", Protocol: "icmp"}, {Name: "pg", Protocol: "icmp", Port: 1}}})
		}, wantErr: `ports[0].name "postgresql-mains": not a DNS-1123 label of at most 15 characters
ports[1].protocol "icmp": not tcp, udp or sctp
ports[1].port: must be 1-65535
ports[2].protocol "icmp": not tcp, udp or sctp
ports[2]: duplicate pg/icmp`},
		{name: "primary", encode: func() ([]byte, error) { return EncodePrimary(Primary{Ordinal: -1}) },
			wantErr: "ordinal -1 out of [0, 2147483647]\nepoch 0: must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.encode()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasSuffix(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v\nwant suffix:\n%s", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"ordinal":1,"epoch":2} x`, `{"ordinal":"1","epoch":2}`, `{"ordinal":1,"epoch":0}`,
		strings.Repeat(" ", maxRecordBytes+1),
	} {
		if p, err := DecodePrimary([]byte(in)); err == nil {
			t.Errorf("DecodePrimary(%.20q) = %+v, want error", in, p)
		}
	}
	if p, err := DecodePrimary([]byte(`{"ordinal":3,"epoch":7,"future":true}`)); err != nil || p != (Primary{Ordinal: 3, Epoch: 7}) {
		t.Errorf("unknown field: got %+v, %v", p, err)
	}
}

// FuzzDecodeRecords checks that decoding never panics and that whatever
// decodes re-encodes to a value that decodes to the same record.
func FuzzDecodeRecords(f *testing.F) {
	f.Add([]byte(`{"cluster":"eu-1","region":"eu","addresses":["127.0.0.2","::1"],"role":"SyncStandby","ready":true}`))
	f.Add([]byte(`{"ports":[{"name":"pg","protocol":"tcp","port":5432}]}`))
	f.Add([]byte(`{"ordinal":3,"epoch":9}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeReplica(b); err == nil {
			roundTrip(t, r, EncodeReplica, DecodeReplica)
		}
		if s, err := DecodeService(b); err == nil {
			roundTrip(t, s, EncodeService, DecodeService)
		}
		if p, err := DecodePrimary(b); err == nil {
			roundTrip(t, p, EncodePrimary, DecodePrimary)
		}
	})
}

func roundTrip[T any](t *testing.T, v T, enc func(T) ([]byte, error), dec func([]byte) (T, error)) {
	t.Helper()
	b, err := enc(v)
	if err != nil {
		t.Fatalf("encode decoded %+v: %v", v, err)
	}
	back, err := dec(b)
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Fatalf("round trip: %+v became %+v", v, back)
	}
	again, err := enc(back)
	if err != nil || string(again) != string(b) {
		t.Fatalf("encoding not deterministic: %s vs %s (%v)", b, again, err)
	}
}
