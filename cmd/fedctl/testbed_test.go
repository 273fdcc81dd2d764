package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/testbed"
)

// fedctl runs one fedctl command line in-process and returns its output.
func fedctl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestTestbedCommandsDriveADetachedBed(t *testing.T) {
	if _, err := testbed.Build(t.Context(), testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir()}); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "bed")
	flags := []string{"--state-dir", state, "--cache-dir", testbed.DefaultCacheDir()}
	run := func(args ...string) string {
		t.Helper()
		out, err := fedctl(t, append(append([]string{"testbed"}, args...), flags...)...)
		if err != nil {
			t.Fatalf("fedctl testbed %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	out := run("up", "--member", "eu-1=eu-west/eu-west-a")
	t.Cleanup(func() {
		if bed, err := testbed.Attach(state); err == nil {
			_ = bed.Close()
		}
	})
	for _, want := range []string{"Test bed up", "hub", "eu-1", "eu-west", filepath.Join(state, "eu-1", "kubeconfig")} {
		if !strings.Contains(out, want) {
			t.Errorf("up output lacks %q:\n%s", want, out)
		}
	}
	bed, err := testbed.Attach(state)
	if err != nil {
		t.Fatal(err)
	}
	// A process is its PID and start time: PIDs are reused.
	procs := map[int]string{}
	remember := func(pids []int) {
		for _, pid := range pids {
			if start, ok := procStart(pid); ok {
				procs[pid] = start
			}
		}
	}
	remember(bed.PIDs())

	if out := run("status"); !strings.Contains(out, "eu-1     true") || !strings.Contains(out, "eu-1/kwok") {
		t.Errorf("status does not show eu-1 ready with its processes:\n%s", out)
	}
	run("stop", "eu-1")
	if out := run("status"); !strings.Contains(out, "eu-1     false") || !strings.Contains(out, "hub      true") {
		t.Errorf("status after stop does not show eu-1 down and the hub up:\n%s", out)
	}
	run("start", "eu-1")
	if out := run("status"); !strings.Contains(out, "eu-1     true") {
		t.Errorf("status after start does not show eu-1 ready:\n%s", out)
	}
	restarted, err := testbed.Attach(state)
	if err != nil {
		t.Fatal(err)
	}
	remember(restarted.PIDs())

	if out := run("down"); !strings.Contains(out, "stopped 7 processes") {
		t.Errorf("down output:\n%s", out)
	}
	// down returns once every process is signalled and seen gone; give
	// the kernel a moment to reap one on a loaded machine.
	deadline := time.Now().Add(10 * time.Second)
	for pid, start := range procs {
		for {
			now, ok := procStart(pid)
			if !ok || now != start {
				break
			}
			if time.Now().After(deadline) {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				t.Errorf("process %d (%s) alive after down", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if out, err := fedctl(t, append([]string{"testbed", "status"}, flags...)...); err == nil {
		t.Errorf("status after down succeeded:\n%s", out)
	}
}

func TestParseMembers(t *testing.T) {
	got, err := parseMembers([]string{"eu-1=eu-west/eu-west-a", "us-1=us-east"})
	if err != nil {
		t.Fatal(err)
	}
	want := []testbed.MemberSpec{{Name: "eu-1", Region: "eu-west", Zone: "eu-west-a"}, {Name: "us-1", Region: "us-east"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("parseMembers = %+v, want %+v", got, want)
	}
	if _, err := parseMembers([]string{"eu-1", "=x/y"}); err == nil || !strings.Contains(err.Error(), `"eu-1"`) || !strings.Contains(err.Error(), `"=x/y"`) {
		t.Errorf("bad members: error %v should name both flags", err)
	}
	if d, err := parseMembers(nil); err != nil || len(d) != 3 {
		t.Errorf("default members = %v, %v", d, err)
	}
}

// procStart is the start time of process pid (clock ticks after boot, the
// 22nd field of /proc/<pid>/stat); false when no such process runs.
func procStart(pid int) (string, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", false
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 || i+2 >= len(raw) {
		return "", false
	}
	f := strings.Fields(string(raw[i+2:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return "", false
	}
	return f[19], true
}
