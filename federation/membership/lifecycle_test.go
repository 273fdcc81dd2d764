package membership_test

import (
	"testing"

	"github.com/fedstate/fedstate/federation/membership"
)

// TestJoinUseAndUnjoin walks one member through its whole membership: join
// from its admin kubeconfig, use the minted credentials for everything the
// hub needs and nothing more, join again, and unjoin.
func TestJoinUseAndUnjoin(t *testing.T) {
	const name = "eu-1"
	opts := membership.Options{Name: name, Region: "eu-west", Zone: "eu-west-a"}
	res, err := membership.Join(logged(t), hub, adminConfig(t, name), opts)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	step := func(what string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(what, f) {
			t.FailNow()
		}
	}
	step("registered in the hub with a kubeconfig of its own", func(t *testing.T) { checkRegistered(t, name, opts, res) })
	step("the minted kubeconfig can do what the hub needs", func(t *testing.T) { checkAllowed(t, name) })
	step("the minted kubeconfig can do nothing else", func(t *testing.T) { checkForbidden(t, name) })
	step("join again converges without duplicates", func(t *testing.T) { checkRejoin(t, name, opts) })
	step("deleting the ServiceAccount and joining again rotates the token", func(t *testing.T) { checkRotate(t, name, opts) })
	placeServices(t, name)
	step("unjoin refuses while a service names the cluster", func(t *testing.T) { checkUnjoinRefuses(t, name) })
	step("forced unjoin removes access and reports what stays", func(t *testing.T) { checkForcedUnjoin(t, name) })
}
