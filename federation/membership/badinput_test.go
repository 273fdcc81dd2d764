package membership_test

import (
	"errors"
	"slices"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/fedstate/fedstate/federation/membership"
)

// TestJoinRejectsBadInputAndCreatesNothing: every bad field is named at
// once, and a rejected or failed Join leaves no trace in member or hub.
func TestJoinRejectsBadInputAndCreatesNothing(t *testing.T) {
	const member = "ap-1"
	for _, tc := range []struct {
		name   string
		opts   membership.Options
		fields []string
	}{
		{name: "empty region", opts: membership.Options{Name: member}, fields: []string{"region"}},
		{name: "invalid name", opts: membership.Options{Name: "AP_1", Region: "ap-south"}, fields: []string{"name"}},
		{name: "empty name", opts: membership.Options{Region: "ap-south"}, fields: []string{"name"}},
		{name: "name longer than a label", opts: membership.Options{Name: string(make([]byte, 64)), Region: "ap-south"}, fields: []string{"name"}},
		{name: "region not a label value", opts: membership.Options{Name: member, Region: "ap south"}, fields: []string{"region"}},
		{name: "zone not a label value", opts: membership.Options{Name: member, Region: "ap-south", Zone: "a/b"}, fields: []string{"zone"}},
		{name: "negative timeout", opts: membership.Options{Name: member, Region: "ap-south", ReadyTimeout: -1}, fields: []string{"readyTimeout"}},
		{name: "everything at once", opts: membership.Options{Name: "-", Zone: "_"}, fields: []string{"name", "region", "zone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := membership.Join(logged(t), hub, adminConfig(t, member), tc.opts)
			var inv *membership.InvalidOptionsError
			if !errors.As(err, &inv) {
				t.Fatalf("Join: %v, want an InvalidOptionsError", err)
			}
			var got []string
			for _, f := range inv.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("bad fields %v, want %v (%v)", got, tc.fields, err)
			}
			assertNeverJoined(t, member)
		})
	}

	t.Run("unreachable member", func(t *testing.T) {
		down := rest.CopyConfig(adminConfig(t, member))
		down.Host = "https://127.0.0.1:1"
		if _, err := membership.Join(logged(t), hub, down, membership.Options{Name: member, Region: "ap-south"}); err == nil {
			t.Fatal("Join with an unreachable member succeeded")
		}
		assertNeverJoined(t, member)
	})

	t.Run("unjoin with an invalid name", func(t *testing.T) {
		var inv *membership.InvalidOptionsError
		if _, err := membership.Unjoin(logged(t), hub, nil, "AP_1", false); !errors.As(err, &inv) {
			t.Errorf("Unjoin: %v, want an InvalidOptionsError", err)
		}
	})
}
