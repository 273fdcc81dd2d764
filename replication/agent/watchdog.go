package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The fence watchdog is the primary's last guard when its agent stops
// working: killed, paused (SIGSTOP), or hung. The agent writes, at every
// renewal of the primary lease, a deadline into a file: the time by which
// the primary must be fenced unless a later renewal moves it. The watchdog,
// a separate process started beside the server that outlives the agent,
// reads the file ten times a second and stops the server hard (SIGQUIT to
// its postmaster, SIGKILL if that is not enough) once the deadline passes.
// It leaves when the file is removed (the agent fenced or demoted the
// primary itself) or the server is down.
//
// The agent writes WritableUntil + the fence grace (FenceTimeout, at most
// a quarter of the TTL): the agent's own fence comes first, and the
// watchdog acts before the lease can expire on the server (which is never
// before LastRenewed + TTL).

// watchdogPoll is how often the watchdog reads the deadline.
const watchdogPoll = 100 * time.Millisecond

// WriteDeadline records t as the fencing deadline in path, atomically.
func WriteDeadline(path string, t time.Time) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(t.UnixNano(), 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("write fencing deadline: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write fencing deadline: %w", err)
	}
	return nil
}

// readDeadline reads a deadline written by WriteDeadline; os.ErrNotExist
// when there is none.
func readDeadline(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("fencing deadline in %s: %w", path, err)
	}
	return time.Unix(0, n), nil
}

// RunWatchdog guards the server whose data directory is dataDir with the
// deadline in path until ctx ends, the file is removed or the server is
// down. It returns nil then; when it had to stop the server it returns
// nil too and logs why. An unreadable deadline counts as passed.
func RunWatchdog(ctx context.Context, path, dataDir string, log *slog.Logger) error {
	tick := time.NewTicker(watchdogPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		deadline, err := readDeadline(path)
		if errors.Is(err, os.ErrNotExist) {
			log.Info("Fencing deadline withdrawn; watchdog leaves", "deadline", path)
			return nil
		}
		pid, alive := postmaster(dataDir)
		if !alive {
			log.Info("Server is down; watchdog leaves", "dataDir", dataDir)
			return nil
		}
		if err == nil && time.Now().Before(deadline) {
			continue
		}
		log.Warn("Fencing deadline passed without a renewal: stopping the server hard",
			"deadline", deadline, "late", time.Since(deadline), "pid", pid, "dataDir", dataDir, "err", err)
		stopHard(pid)
		_ = os.Remove(path)
		return nil
	}
}

// postmaster returns the PID in dataDir's postmaster.pid and whether that
// process is alive and a postgres server.
func postmaster(dataDir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(strings.TrimSpace(string(line)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(string(comm), "postgres") {
		return 0, false
	}
	return pid, true
}

// stopHard sends the immediate-shutdown signal (SIGQUIT) to the postmaster,
// then SIGKILL if it is still there after two seconds.
func stopHard(pid int) {
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// startWatchdog starts the watchdog of one primary unless one runs already
// (its PID is in path+".pid"). The watchdog runs in its own session, so it
// outlives the agent.
func startWatchdog(argv []string, path, dataDir string) error {
	if len(argv) == 0 {
		return nil
	}
	pidFile := path + ".pid"
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(cmdline, []byte(path)) {
				return nil
			}
		}
	}
	logFile, err := os.OpenFile(path+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start fence watchdog: %w", err)
	}
	defer logFile.Close()
	args := append(append([]string{}, argv[1:]...), "--deadline-file", path, "--data-dir", dataDir)
	cmd := exec.Command(argv[0], args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start fence watchdog: %w", err)
	}
	go func() { _ = cmd.Wait() }() // reaped while the agent runs
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		return fmt.Errorf("start fence watchdog: %w", err)
	}
	return nil
}
