package failover

import (
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode. It must never panic; a state
// it accepts must encode to bytes that decode to the same encoding, and
// Step must run on it without panicking and keep it valid, whatever the
// event.
func FuzzDecode(f *testing.F) {
	for _, s := range []State{fixture(), failedOver(), switching(), lagging(), promoting()} {
		data, err := Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"policy":{"mode":"Automatic"},"epoch":0,"phase":{"name":"PrimaryLost"},"replicas":[{"name":"db-0","healthy":true,"reachable":true,"reportedAt":"2026-03-01T12:00:00Z"}],"allowed":[""]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		if err != nil {
			return
		}
		enc, err := Encode(s)
		if err != nil {
			t.Fatalf("decoded state does not encode: %v", err)
		}
		s2, err := Decode(enc)
		if err != nil {
			t.Fatalf("encoded state does not decode: %v\n%s", err, enc)
		}
		if enc2, _ := Encode(s2); string(enc2) != string(enc) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
		now := s.Head().At
		name := s.Primary
		if len(s.Replicas) > 0 {
			name = s.Replicas[len(s.Replicas)-1].Name
		}
		for _, ev := range []Event{
			Resume{At: now}, Tick{At: now.Add(1 << 40)}, LeaseExpired{Epoch: s.Epoch, At: now},
			PromotionCommitted{Epoch: s.Epoch + 1, Primary: name, At: now}, CommitFailed{Epoch: s.Epoch, At: now},
			Promoted{Replica: s.Primary, Epoch: s.Epoch, Position: 7, At: now},
			Demoted{Replica: s.Primary, Epoch: s.Epoch, Position: 7, At: now},
			PrimaryReturned{Replica: name, Epoch: s.Epoch - 1, Position: 7, At: now},
			LossMeasured{Replica: name, Epoch: s.Epoch, Bytes: 7, Transactions: 1, At: now},
			PositionReported{Replica: name, Role: RolePrimary, Epoch: s.Epoch, Position: 9, SyncAcks: []SyncAck{{name, 9}}, At: now},
			SwitchoverRequested{At: now}, FailoverRequested{AcceptDataLoss: true, At: now},
			ReplicaChanged{Replica: name, Gone: true, At: now}, PlacementChanged{At: now},
		} {
			next, _ := Step(s, ev)
			if err := next.Validate(); err != nil {
				t.Fatalf("Step(%T) made the state invalid: %v\nfrom %s", ev, err, enc)
			}
		}
	})
}
