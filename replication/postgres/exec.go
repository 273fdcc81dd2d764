package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runner runs the PostgreSQL programs as the OS user and owns files for it.
// PostgreSQL refuses to run as root, so when this process is root, programs
// run with the OS user's credentials and the files the Instance writes are
// handed to that user.
type runner struct {
	binDir string
	// cred is the OS user's identity; nil runs programs as this process.
	cred *syscall.Credential
	home string
}

// newRunner looks the OS user up when this process is root.
func newRunner(cfg Config) (runner, error) {
	r := runner{binDir: cfg.BinDir, home: "/"}
	if os.Geteuid() != 0 {
		return r, nil
	}
	u, err := user.Lookup(cfg.OSUser)
	if err != nil {
		return r, fmt.Errorf("look up OS user %s: %w", cfg.OSUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return r, fmt.Errorf("OS user %s uid %q: %w", cfg.OSUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return r, fmt.Errorf("OS user %s gid %q: %w", cfg.OSUser, u.Gid, err)
	}
	if uid == 0 {
		return r, fmt.Errorf("OS user %s: is root, which PostgreSQL refuses to run as", cfg.OSUser)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	groups, err := u.GroupIds()
	if err != nil {
		return r, fmt.Errorf("groups of OS user %s: %w", cfg.OSUser, err)
	}
	for _, g := range groups {
		if id, err := strconv.ParseUint(g, 10, 32); err == nil {
			cred.Groups = append(cred.Groups, uint32(id))
		}
	}
	r.cred, r.home = cred, u.HomeDir
	return r, nil
}

// maxOutput is how much of a program's output an error quotes.
const maxOutput = 2000

// run runs program from binDir with args and extra environment entries and
// returns its combined output.
func (r runner) run(ctx context.Context, env []string, program string, args ...string) (string, error) {
	cmd := r.command(ctx, env, program, args)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if err != nil {
		return text, fmt.Errorf("%s: %w: %s", program, err, tail(text))
	}
	return text, nil
}

// stream runs program like run, handing its standard output to read as
// it comes, for output too large to hold, and returns its error output
// and how it exited (an *exec.ExitError when it failed). When read
// returns an error the program is killed and that error returned.
func (r runner) stream(ctx context.Context, program string, args []string, read func(io.Reader) error) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := r.command(ctx, nil, program, args)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", fmt.Errorf("%s: %w", program, err)
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%s: %w", program, err)
	}
	readErr := read(out)
	if readErr != nil {
		cancel()
	}
	_, _ = io.Copy(io.Discard, out)
	err = cmd.Wait()
	if readErr != nil {
		return stderr.String(), readErr
	}
	return stderr.String(), err
}

// command prepares program from binDir with args and extra environment
// entries, in its own process group, so that a server it starts does not
// share this process's terminal signals.
func (r runner) command(ctx context.Context, env []string, program string, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(r.binDir, program), args...)
	cmd.Dir = "/"
	// The C locale keeps messages and pg_controldata's labels in English.
	cmd.Env = append([]string{"LC_ALL=C", "PATH=/usr/bin:/bin", "HOME=" + r.home}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred, Setpgid: true}
	// A server started by pg_ctl must never hold the output pipes open.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// exitCode is the exit status of a program that ran and failed, or -1.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// tail is the end of a program's output, trimmed, for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxOutput {
		s = "..." + s[len(s)-maxOutput:]
	}
	return s
}

// own hands path to the OS user when this process is root.
func (r runner) own(path string) error {
	if r.cred == nil {
		return nil
	}
	if err := os.Lchown(path, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// mkdir creates dir with mode 0700, owned by the OS user; an existing
// directory gets that mode and owner too. Missing parents are created with
// mode 0755, so that the OS user can reach dir.
func (r runner) mkdir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return r.own(dir)
}

// writeFile replaces path atomically with data, mode 0600, owned by the OS
// user.
func (r runner) writeFile(path string, data []byte) error {
	tmp := path + ".fedstate-tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := r.own(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// touch creates path empty if it does not exist, owned by the OS user.
func (r runner) touch(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return r.own(path)
}

// exists reports whether path exists.
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	return true, nil
}

// emptyDir removes everything inside dir but not dir itself, which may be
// a mount point.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove %s: %w", e.Name(), err)
		}
	}
	return nil
}
