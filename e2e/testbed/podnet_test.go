package testbed

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestPodNetClaims: a block stays claimed while its bed has not saved its
// state yet (the claiming process lives), while a detached bed's state
// folder holds a bed, and is taken over once both are gone.
func TestPodNetClaims(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	first, err := claimPodNet(a) // a has no state.json yet
	if err != nil {
		t.Fatal(err)
	}
	second, err := claimPodNet(b)
	if err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Fatalf("two beds starting together both got block %d", first)
	}

	// A detached bed: the claiming process is gone, its folder holds a bed.
	claim := filepath.Join(podNetDir(), strconv.Itoa(first))
	if err := os.WriteFile(claim, []byte(a+"\n2147483646\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(a, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, stateFile), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(t.TempDir(), "c")
	if third, err := claimPodNet(c); err != nil || third == first || third == second {
		t.Fatalf("third bed got block %d (%v); blocks %d and %d are in use", third, err, first, second)
	}

	// Both gone: the block is free again.
	if err := os.Remove(filepath.Join(a, stateFile)); err != nil {
		t.Fatal(err)
	}
	if got, err := claimPodNet(filepath.Join(t.TempDir(), "d")); err != nil || got != first {
		t.Fatalf("after the bed of block %d went, a new bed got %d (%v)", first, got, err)
	}
	releasePodNet(second, b)
	if _, err := os.Stat(filepath.Join(podNetDir(), strconv.Itoa(second))); !os.IsNotExist(err) {
		t.Errorf("block %d still claimed after its release: %v", second, err)
	}
}
