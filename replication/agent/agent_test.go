package agent

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func TestSyncSpec(t *testing.T) {
	recs := map[int]dnsserver.Replica{
		0: {Region: "eu"}, 1: {Region: "eu"}, 2: {Region: "us"}, 3: {Region: "ap"},
	}
	for _, tc := range []struct {
		name  string
		sync  int32
		scope v1alpha1.SyncReplicaScope
		want  SyncSpec
	}{
		{"async", 0, v1alpha1.SyncAnywhere, SyncSpec{Standbys: []string{"db-1", "db-2", "db-3"}}},
		{"any", 1, v1alpha1.SyncAnywhere, SyncSpec{Standbys: []string{"db-1", "db-2", "db-3"}, Synchronous: []string{"db-1", "db-2", "db-3"}, Quorum: 1}},
		{"other region", 2, v1alpha1.SyncOtherRegion, SyncSpec{Standbys: []string{"db-1", "db-2", "db-3"}, Synchronous: []string{"db-2", "db-3"}, Quorum: 2}},
		{"same region, capped", 2, v1alpha1.SyncSameRegion, SyncSpec{Standbys: []string{"db-1", "db-2", "db-3"}, Synchronous: []string{"db-1"}, Quorum: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := syncSpec("db", 0, recs, tc.sync, tc.scope)
			if !got.equal(tc.want) {
				t.Errorf("syncSpec = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := syncSpec("db", 0, map[int]dnsserver.Replica{0: {Region: "eu"}, 1: {Region: "eu"}}, 1, v1alpha1.SyncOtherRegion); got.Quorum != 0 || got.Synchronous != nil {
		t.Errorf("nobody in scope: %+v, want asynchronous", got)
	}
}

func TestOrdinalOf(t *testing.T) {
	for name, want := range map[string]int{"db-0": 0, "db-12": 12} {
		if n, ok := ordinalOf("db", name); !ok || n != want {
			t.Errorf("ordinalOf(%q) = %d, %v", name, n, ok)
		}
	}
	for _, name := range []string{"db", "db-", "db-01", "dbx-1", "db-x", "other-1"} {
		if _, ok := ordinalOf("db", name); ok {
			t.Errorf("ordinalOf(%q) accepted", name)
		}
	}
}

// fakeServer runs a process called "postgres" (a copy of sleep) with a
// postmaster.pid naming it in a data directory, as the watchdog sees a
// server.
func fakeServer(t *testing.T) (dataDir string, cmd *exec.Cmd) {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "postgres")
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(bin, "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	dataDir = filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "postmaster.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n/data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dataDir, cmd
}

// TestWatchdogStopsServer: a deadline that passes without a renewal stops
// the server; one kept in the future leaves it alone.
func TestWatchdogStopsServer(t *testing.T) {
	dataDir, cmd := fakeServer(t)
	path := filepath.Join(t.TempDir(), "deadline")
	if err := WriteDeadline(path, time.Now().Add(700*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- RunWatchdog(t.Context(), path, dataDir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	select {
	case <-exited:
		if d := time.Since(start); d < 600*time.Millisecond || d > 3*time.Second {
			t.Errorf("server stopped %v after the watchdog started, want just after the 700ms deadline", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server still running 5s after its deadline")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("deadline file left behind: %v", err)
	}
}

// TestWatchdogLeaves: a withdrawn deadline ends the watchdog and the
// server keeps running.
func TestWatchdogLeaves(t *testing.T) {
	dataDir, cmd := fakeServer(t)
	path := filepath.Join(t.TempDir(), "deadline")
	if err := WriteDeadline(path, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- RunWatchdog(context.Background(), path, dataDir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	time.Sleep(300 * time.Millisecond)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("watchdog still running after its deadline was withdrawn")
	}
	if cmd.ProcessState != nil {
		t.Fatal("server stopped")
	}
	if _, alive := postmaster(dataDir); !alive {
		t.Error("server no longer seen alive")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig("eu-1").Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	bad := Config{Cluster: "EU", Name: "x_y", VolumesDir: "rel", RunDir: "/" + string(slices.Repeat([]byte("r"), 70)), DNSPrefix: "nope"}
	err := bad.Validate()
	for _, field := range []string{"cluster", "name", "port", "volumesDir", "runDir", "dnsPrefix", "reportInterval", "fenceTimeout"} {
		if err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("Validate does not name %s: %v", field, err)
		}
	}
}
