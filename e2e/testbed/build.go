package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Binaries are the paths of the built test-bed programs.
type Binaries struct {
	// KubeAPIServer, KubeControllerManager, KubeScheduler and Kubectl are
	// built from k8s.io/kubernetes at KubernetesVersion.
	KubeAPIServer         string `json:"kubeAPIServer"`
	KubeControllerManager string `json:"kubeControllerManager"`
	KubeScheduler         string `json:"kubeScheduler"`
	Kubectl               string `json:"kubectl"`
	// Etcd is built from go.etcd.io/etcd/server/v3 at EtcdVersion.
	Etcd string `json:"etcd"`
	// Kwok is built from sigs.k8s.io/kwok at KwokVersion.
	Kwok string `json:"kwok"`
	// KwokStages is the Stage configuration kwok needs to run pods.
	KwokStages string `json:"kwokStages"`
}

// BuildConfig configures Build.
type BuildConfig struct {
	// CacheDir holds the built binaries, one folder per program and
	// version, and the build modules. DefaultCacheDir gives the usual one.
	CacheDir string
	// Progress receives one line per step and a line every ProgressEvery
	// while a step runs; nil discards them.
	Progress io.Writer
	// ProgressEvery is the interval of "still building" lines; zero means
	// 30 seconds.
	ProgressEvery time.Duration
	// Go is the go command; empty means "go" from PATH.
	Go string
}

// DefaultCacheDir is $FEDSTATE_CACHE_DIR if set, else .cache in the
// fedstate source tree that holds the working directory, else fedstate in
// the user's cache folder.
func DefaultCacheDir() string {
	if d := os.Getenv("FEDSTATE_CACHE_DIR"); d != "" {
		return d
	}
	if root, ok := SourceRoot(); ok {
		return filepath.Join(root, ".cache")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "fedstate")
	}
	return filepath.Join(os.TempDir(), "fedstate-cache")
}

// SourceRoot finds the fedstate source tree holding the working directory
// by walking up to the go.mod of module github.com/fedstate/fedstate.
func SourceRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/fedstate/fedstate\n")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// binaryDirs are the cache folders of each program, keyed by version.
func binaryDirs(cache string) (kube, etcd, kwok string) {
	root := filepath.Join(cache, "testbed")
	return filepath.Join(root, "kubernetes-"+KubernetesVersion),
		filepath.Join(root, "etcd-"+EtcdVersion),
		filepath.Join(root, "kwok-"+KwokVersion)
}

// CachedBinaries returns the binaries in cache and whether all of them are
// there; it builds nothing.
func CachedBinaries(cache string) (Binaries, bool) {
	kube, etcd, kwok := binaryDirs(cache)
	b := Binaries{
		KubeAPIServer:         filepath.Join(kube, "kube-apiserver"),
		KubeControllerManager: filepath.Join(kube, "kube-controller-manager"),
		KubeScheduler:         filepath.Join(kube, "kube-scheduler"),
		Kubectl:               filepath.Join(kube, "kubectl"),
		Etcd:                  filepath.Join(etcd, "etcd"),
		Kwok:                  filepath.Join(kwok, "kwok"),
		KwokStages:            filepath.Join(kwok, "stages.yaml"),
	}
	for _, p := range []string{b.KubeAPIServer, b.KubeControllerManager, b.KubeScheduler, b.Kubectl, b.Etcd, b.Kwok, b.KwokStages} {
		if _, err := os.Stat(p); err != nil {
			return b, false
		}
	}
	return b, true
}

// Build makes sure every test-bed binary is in cfg.CacheDir, building what
// is missing from the Go module proxy; present binaries are not rebuilt. It
// blocks for minutes on a cold cache (kube-apiserver and friends: ~5 min on
// two cores). Concurrent calls, also from other processes, serialise on a
// lock file, so parallel package tests build once.
func Build(ctx context.Context, cfg BuildConfig) (Binaries, error) {
	if cfg.CacheDir == "" {
		return Binaries{}, errors.New("testbed: BuildConfig.CacheDir is empty")
	}
	if bins, ok := CachedBinaries(cfg.CacheDir); ok {
		return bins, nil
	}
	if err := os.MkdirAll(filepath.Join(cfg.CacheDir, "testbed"), 0o755); err != nil {
		return Binaries{}, fmt.Errorf("create cache dir: %w", err)
	}
	unlock, err := lockFile(filepath.Join(cfg.CacheDir, "testbed", "build.lock"))
	if err != nil {
		return Binaries{}, err
	}
	defer unlock()
	b := builder{cfg: cfg, out: cfg.Progress}
	if b.out == nil {
		b.out = io.Discard
	}
	if b.cfg.Go == "" {
		b.cfg.Go = "go"
	}
	if b.cfg.ProgressEvery == 0 {
		b.cfg.ProgressEvery = 30 * time.Second
	}
	kube, etcd, kwok := binaryDirs(cfg.CacheDir)
	steps := []struct {
		dir   string
		build func(ctx context.Context, dir string) error
	}{
		{kube, b.buildKubernetes},
		{etcd, b.buildEtcd},
		{kwok, b.buildKwok},
	}
	start := time.Now()
	for _, s := range steps {
		if _, err := os.Stat(s.dir); err == nil {
			continue // built by an earlier run, or by a process we waited for
		}
		// Build into a temporary folder and rename it, so an interrupted
		// build never leaves half a set of binaries behind.
		tmp := s.dir + ".partial"
		if err := os.RemoveAll(tmp); err != nil {
			return Binaries{}, err
		}
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return Binaries{}, err
		}
		if err := s.build(ctx, tmp); err != nil {
			return Binaries{}, err
		}
		if err := os.Rename(tmp, s.dir); err != nil {
			return Binaries{}, fmt.Errorf("install %s: %w", s.dir, err)
		}
	}
	bins, ok := CachedBinaries(cfg.CacheDir)
	if !ok {
		return bins, errors.New("testbed: build finished but binaries are missing")
	}
	fmt.Fprintf(b.out, "testbed: binaries ready in %s (%s)\n", filepath.Join(cfg.CacheDir, "testbed"), time.Since(start).Round(time.Second))
	return bins, nil
}

// builder runs the build steps and reports progress.
type builder struct {
	cfg BuildConfig
	out io.Writer
}

// srcDir is the folder of a build module, outside the project's go.mod.
func (b builder) srcDir(name string) (string, error) {
	dir := filepath.Join(b.cfg.CacheDir, "testbed", "src", name)
	return dir, os.MkdirAll(dir, 0o755)
}

func (b builder) buildKubernetes(ctx context.Context, out string) error {
	src, err := b.srcDir("kubernetes-" + KubernetesVersion)
	if err != nil {
		return err
	}
	// k8s.io/kubernetes replaces its staging modules with local paths, so
	// it cannot be go-installed: a module that requires it, replaces the
	// staging modules by their published versions and lists the commands
	// as tools builds them all in one go build.
	var mod strings.Builder
	fmt.Fprintf(&mod, "module fedstate.local/testbed/kubernetes\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n", KubernetesVersion)
	for _, m := range stagingModules {
		fmt.Fprintf(&mod, "\tk8s.io/%s => k8s.io/%s %s\n", m, m, StagingVersion)
	}
	mod.WriteString(")\n\ntool (\n")
	for _, c := range kubeCommands {
		fmt.Fprintf(&mod, "\tk8s.io/kubernetes/cmd/%s\n", c)
	}
	mod.WriteString(")\n")
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(mod.String()), 0o644); err != nil {
		return err
	}
	if err := b.goRun(ctx, "kubernetes: resolve modules", src, nil, "mod", "tidy"); err != nil {
		return err
	}
	minor := strings.Split(KubernetesVersion, ".")[1]
	ld := "-s -w"
	for _, p := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		ld += fmt.Sprintf(" -X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean", p, KubernetesVersion, p, p, minor, p)
	}
	return b.goRun(ctx, fmt.Sprintf("kubernetes %s: build %s (~5 min cold)", KubernetesVersion, strings.Join(kubeCommands, ", ")),
		src, nil, "build", "-trimpath", "-ldflags", ld, "-o", out+string(filepath.Separator), "tool")
}

func (b builder) buildEtcd(ctx context.Context, out string) error {
	src, err := b.srcDir("etcd-" + EtcdVersion)
	if err != nil {
		return err
	}
	// The etcd main module has replace directives too; a wrapper main that
	// calls etcdmain.Main builds the same server.
	mod := fmt.Sprintf("module fedstate.local/testbed/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n", EtcdVersion)
	main := "package main\n\nimport (\n\t\"os\"\n\n\t\"go.etcd.io/etcd/server/v3/etcdmain\"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n"
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(mod), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(main), 0o644); err != nil {
		return err
	}
	if err := b.goRun(ctx, "etcd: resolve modules", src, nil, "mod", "tidy"); err != nil {
		return err
	}
	return b.goRun(ctx, fmt.Sprintf("etcd %s: build (~30 s cold)", EtcdVersion), src, nil,
		"build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(out, "etcd"), ".")
}

func (b builder) buildKwok(ctx context.Context, out string) error {
	src, err := b.srcDir("kwok-" + KwokVersion)
	if err != nil {
		return err
	}
	mod := "sigs.k8s.io/kwok@" + KwokVersion
	if err := b.goRun(ctx, fmt.Sprintf("kwok %s: build (~75 s cold)", KwokVersion), src,
		[]string{"GOBIN=" + out}, "install", "-trimpath", "-ldflags", "-s -w", "sigs.k8s.io/kwok/cmd/kwok@"+KwokVersion); err != nil {
		return err
	}
	// kwok needs Stage definitions; they ship in its module.
	var info struct{ Dir string }
	cmd := b.command(ctx, src, nil, "mod", "download", "-json", mod)
	raw, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("locate %s: %w", mod, err)
	}
	if err := json.Unmarshal(raw, &info); err != nil || info.Dir == "" {
		return fmt.Errorf("locate %s: bad go mod download output: %v", mod, err)
	}
	var stages bytes.Buffer
	for _, f := range kwokStageFiles {
		y, err := os.ReadFile(filepath.Join(info.Dir, f))
		if err != nil {
			return fmt.Errorf("read kwok stage: %w", err)
		}
		stages.WriteString("---\n")
		stages.Write(y)
	}
	return os.WriteFile(filepath.Join(out, "stages.yaml"), stages.Bytes(), 0o644)
}

// command prepares a go command in dir with extra environment settings.
func (b builder) command(ctx context.Context, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, b.cfg.Go, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// goRun runs a go command, printing a start line, a line every
// ProgressEvery while it runs and an end line with its duration.
func (b builder) goRun(ctx context.Context, what, dir string, env []string, args ...string) error {
	cmd := b.command(ctx, dir, env, args...)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	start := time.Now()
	fmt.Fprintf(b.out, "testbed: %s ...\n", what)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(b.cfg.ProgressEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", what, err, lastLines(output.String(), 30))
			}
			fmt.Fprintf(b.out, "testbed: %s: done in %s\n", what, time.Since(start).Round(time.Second))
			return nil
		case <-tick.C:
			fmt.Fprintf(b.out, "testbed: %s: still running after %s\n", what, time.Since(start).Round(time.Second))
		}
	}
}

// lastLines keeps the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockFile takes an exclusive lock on path, waiting for other holders, and
// returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
