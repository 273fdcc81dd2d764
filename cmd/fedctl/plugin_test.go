package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/testbed"
)

func TestAsKubectlPlugin(t *testing.T) {
	root := newRootCommand()
	asKubectlPlugin(root)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"status", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	wants(t, "kubectl fedstate status --help", out.String(), "kubectl fedstate status SERVICE", "  kubectl fedstate status prod/db")
	if strings.Contains(out.String(), "fedctl status") {
		t.Errorf("help still says fedctl:\n%s", out.String())
	}
	for in, want := range map[string]string{
		"fedctl get clusters":            "kubectl fedstate get clusters",
		"run bin/fedctl testbed up":      "run bin/fedctl testbed up",
		`"fedctl join", cmd/fedctl`:      `"kubectl fedstate join", cmd/fedctl`,
		"  # x\n  fedctl dig a\nfedctlx": "  # x\n  kubectl fedstate dig a\nfedctlx",
	} {
		if got := pluginText(in); got != want {
			t.Errorf("pluginText(%q) = %q, want %q", in, got, want)
		}
	}
	for argv0, want := range map[string]bool{"/usr/local/bin/kubectl-fedstate": true, "kubectl-fedstate.exe": true, "bin/fedctl": false} {
		if isPlugin(argv0) != want {
			t.Errorf("isPlugin(%q) = %v", argv0, !want)
		}
	}
}

// TestKubectlFindsThePlugin builds fedctl as kubectl-fedstate and runs the
// test bed's real kubectl with it on PATH.
func TestKubectlFindsThePlugin(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plugin := filepath.Join(dir, pluginBinary)
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", plugin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	kubectl := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bins.Kubectl, args...)
		cmd.Env = append(os.Environ(), "PATH="+dir, "KUBECONFIG="+filepath.Join(dir, "none"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	wants(t, "kubectl fedstate --help", kubectl("fedstate", "--help"), "kubectl fedstate [command]",
		"Use \"kubectl fedstate [command] --help\"", `"kubectl fedstate status"`)
	wants(t, "kubectl fedstate drill run --help", kubectl("fedstate", "drill", "run", "--help"),
		"kubectl fedstate drill run NAME --service SVC", "  kubectl fedstate drill run to-us -n prod")
	wants(t, "kubectl plugin list", kubectl("plugin", "list"), plugin)
}
