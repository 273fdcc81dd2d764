package testbed_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fedstate/fedstate/e2e/testbed"
)

// panicHelperEnv, when set, turns the test binary into a helper that starts
// a bed, writes its process IDs to the named file and panics.
const panicHelperEnv = "FEDSTATE_TESTBED_PANIC_HELPER"

var shared struct {
	once sync.Once
	bed  *testbed.Bed
	err  error
}

func TestMain(m *testing.M) {
	if path := os.Getenv(panicHelperEnv); path != "" {
		panicHelper(path)
		return
	}
	code := m.Run()
	if shared.bed != nil {
		if err := shared.bed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close test bed:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// binaries builds the test-bed binaries once per machine (a no-op when
// cached).
func binaries(tb testing.TB) testbed.Binaries {
	tb.Helper()
	bins, err := testbed.Build(context.Background(), testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		tb.Fatalf("build test-bed binaries: %v", err)
	}
	return bins
}

// sharedBed is the hub and three members every test of the package shares,
// started on first use.
func sharedBed(t *testing.T) *testbed.Bed {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "fedstate-testbed-")
		if err != nil {
			shared.err = err
			return
		}
		cfg := testbed.DefaultConfig()
		cfg.Binaries, cfg.StateDir, cfg.Progress = binaries(t), dir, os.Stderr
		shared.bed, shared.err = testbed.Start(context.Background(), cfg)
	})
	if shared.err != nil {
		t.Fatalf("start shared test bed: %v", shared.err)
	}
	return shared.bed
}

// panicHelper starts a hub and one member without detaching, records their
// process IDs and panics, as a crashing test would.
func panicHelper(path string) {
	dir, err := os.MkdirTemp("", "fedstate-testbed-panic-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	bins, ok := testbed.CachedBinaries(testbed.DefaultCacheDir())
	if !ok {
		fmt.Fprintln(os.Stderr, "binaries not built")
		os.Exit(3)
	}
	cfg := testbed.DefaultConfig()
	cfg.Binaries, cfg.StateDir, cfg.Members = bins, dir, testbed.DefaultMembers()[:1]
	bed, err := testbed.Start(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var pids []string
	for _, p := range bed.PIDs() {
		pids = append(pids, strconv.Itoa(p))
	}
	// First line: the state folder, for the parent to remove; second: PIDs.
	if err := os.WriteFile(path, []byte(dir+"\n"+strings.Join(pids, " ")), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	panic("test bed helper: panicking with the bed running")
}
