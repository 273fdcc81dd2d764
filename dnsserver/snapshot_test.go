package dnsserver

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

func TestSerialLess(t *testing.T) {
	tests := []struct {
		name string
		a, b uint32
		want bool
	}{
		{name: "plain", a: 1, b: 2, want: true},
		{name: "equal", a: 7, b: 7, want: false},
		{name: "backwards", a: 2, b: 1, want: false},
		{name: "wraps", a: 0xffffffff, b: 0, want: true},
		{name: "wraps far", a: 0xfffffff0, b: 0x10, want: true},
		{name: "just under half", a: 0, b: 1<<31 - 1, want: true},
		{name: "half is incomparable", a: 0, b: 1 << 31, want: false},
		{name: "half is incomparable backwards", a: 1 << 31, b: 0, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SerialLess(tc.a, tc.b); got != tc.want {
				t.Errorf("SerialLess(%d, %d) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
	if got := SerialOf(1<<32 + 5); got != 5 {
		t.Errorf("SerialOf(2^32+5) = %d", got)
	}
	if !SerialLess(SerialOf(1<<32-1), SerialOf(1<<32)) {
		t.Error("revision 2^32 does not follow 2^32-1 in serial arithmetic")
	}
}

// TestApplyIncrementalMatchesFullBuild applies random changes one batch at
// a time and checks the result against a snapshot built in one go from the
// final state, and that untouched services are shared, not rebuilt.
func TestApplyIncrementalMatchesFullBuild(t *testing.T) {
	cfg := DefaultConfig()
	rng := rand.New(rand.NewPCG(1, 2))
	state := map[string][]byte{}
	inc := NewSnapshot(cfg)
	for step := range 300 {
		var batch []Change
		for range 1 + rng.IntN(4) {
			c := randomChange(rng)
			batch = append(batch, c)
			if c.Deleted {
				delete(state, c.Key)
			} else {
				state[c.Key] = c.Value
			}
		}
		prev := inc
		inc, _ = inc.Apply(int64(step+1), cfg.Prefix, batch)
		for id, set := range prev.services {
			if !touches(batch, cfg.Prefix, id) && inc.services[id] != set {
				t.Fatalf("step %d: untouched service %v was rebuilt", step, id)
			}
		}
	}
	var all []Change
	for k, v := range state {
		all = append(all, Change{Key: k, Value: v})
	}
	full, _ := NewSnapshot(cfg).Apply(inc.Revision(), cfg.Prefix, all)
	if !reflect.DeepEqual(full.services, inc.services) || !reflect.DeepEqual(full.namespaces, inc.namespaces) {
		t.Fatalf("incremental snapshot differs from full build:\n%d services vs %d", len(inc.services), len(full.services))
	}
}

func touches(batch []Change, prefix string, id serviceID) bool {
	for _, c := range batch {
		if k, err := ParseEtcdKey(prefix, c.Key); err == nil && k.Namespace == id.ns && k.Service == id.svc {
			return true
		}
	}
	return false
}

func randomChange(rng *rand.Rand) Change {
	ns, svc := fmt.Sprintf("ns%d", rng.IntN(2)), fmt.Sprintf("s%d", rng.IntN(3))
	k := Key{Namespace: ns, Service: svc}
	var v []byte
	var err error
	switch rng.IntN(3) {
	case 0:
		k.Kind = KindService
		v, err = EncodeService(Service{Ports: []Port{{Name: "pg", Protocol: "tcp", Port: uint16(1 + rng.IntN(9))}}})
	case 1:
		k.Kind = KindPrimary
		v, err = EncodePrimary(Primary{Ordinal: rng.IntN(4), Epoch: 1 + rng.Int64N(5)})
	default:
		k.Kind, k.Ordinal = KindReplica, rng.IntN(4)
		roles := []Role{RoleSyncStandby, RoleAsyncReplica, RoleFenced}
		v, err = EncodeReplica(Replica{Cluster: fmt.Sprintf("c%d", rng.IntN(2)), Region: fmt.Sprintf("r%d", rng.IntN(2)),
			Role: roles[rng.IntN(3)], Ready: rng.IntN(4) > 0,
			Addresses: []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + rng.IntN(200))})}})
	}
	if err != nil {
		panic(err)
	}
	if rng.IntN(5) == 0 {
		return Change{Key: k.EtcdKey(DefaultPrefix), Deleted: true}
	}
	if rng.IntN(20) == 0 {
		v = []byte("not json")
	}
	return Change{Key: k.EtcdKey(DefaultPrefix), Value: v}
}
