package testbed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is one program the bed started.
type Process struct {
	// Name says what the process is, for example "eu-1/kube-apiserver".
	Name string `json:"name"`
	// PID is the operating-system process ID; zero when not running.
	PID int `json:"pid"`
	// Path and Args are the program and its arguments, kept so that a
	// stopped cluster can be started again, by another process too.
	Path string   `json:"path"`
	Args []string `json:"args"`
	// Env holds "KEY=value" entries added to the environment the program
	// inherits from the process that starts it; later entries win.
	Env []string `json:"env,omitempty"`
	// Log is the file that receives the program's output.
	Log string `json:"log"`
}

// supervisor starts processes and stops them again. It is not safe for
// concurrent use; Bed serialises calls.
type supervisor struct {
	detach bool
	// exited has an entry per process started by this supervisor; it is
	// closed when the process has exited and been reaped.
	exited map[int]chan struct{}
}

// start runs p in the background with its output appended to p.Log and
// records its PID in p.
func (s *supervisor) start(p *Process) error {
	logf, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.Name, err)
	}
	defer logf.Close()
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if len(p.Env) > 0 {
		cmd.Env = append(os.Environ(), p.Env...)
	}
	if s.detach {
		// A session of its own: the process survives the caller and its
		// terminal.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Die with the caller, even when it panics or is killed.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	p.PID = cmd.Process.Pid
	done := make(chan struct{})
	s.exited[p.PID] = done
	go func() {
		_ = cmd.Wait() // the exit status is in the log; we only reap
		close(done)
	}()
	return nil
}

// running reports whether p's process is alive and still the program that
// was started (a recycled PID is not).
func (s *supervisor) running(p *Process) bool {
	if p.PID <= 0 {
		return false
	}
	if done, ok := s.exited[p.PID]; ok {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	return pidRuns(p.PID, p.Path)
}

// stop sends SIGTERM to every running process of ps, waits up to timeout
// for them to exit, then kills what is left and waits for that too.
func (s *supervisor) stop(ps []*Process, timeout time.Duration) error {
	var live []*Process
	for _, p := range ps {
		if s.running(p) {
			s.signal(p, syscall.SIGTERM)
			// A paused process handles SIGTERM only once it runs again.
			s.signal(p, syscall.SIGCONT)
			live = append(live, p)
		}
	}
	return s.kill(s.waitExit(live, timeout), ps)
}

// kill sends SIGKILL to every running process of victims and waits for
// them to exit. It then forgets the PIDs of the processes of ps (which
// include victims) that no longer run.
func (s *supervisor) kill(victims, ps []*Process) error {
	var live []*Process
	for _, p := range victims {
		if s.running(p) {
			s.signal(p, syscall.SIGKILL)
			live = append(live, p)
		}
	}
	live = s.waitExit(live, 5*time.Second)
	var errs []error
	for _, p := range live {
		errs = append(errs, fmt.Errorf("%s (pid %d) did not exit", p.Name, p.PID))
	}
	for _, p := range ps {
		if !s.running(p) {
			delete(s.exited, p.PID)
			p.PID = 0
		}
	}
	return errors.Join(errs...)
}

// signal sends sig to p's process group, so that helpers the program ran
// get it too; every process the supervisor starts leads its own group. A
// program that left its group gets the signal alone.
func (s *supervisor) signal(p *Process, sig syscall.Signal) {
	if err := syscall.Kill(-p.PID, sig); err != nil {
		_ = syscall.Kill(p.PID, sig)
	}
}

// waitExit polls until every process has exited or timeout passes and
// returns those still running.
func (s *supervisor) waitExit(ps []*Process, timeout time.Duration) []*Process {
	deadline := time.Now().Add(timeout)
	for {
		var live []*Process
		for _, p := range ps {
			if s.running(p) {
				live = append(live, p)
			}
		}
		if len(live) == 0 || time.Now().After(deadline) {
			return live
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pidRuns reports whether pid is a live (not zombie) process running the
// program at path.
func pidRuns(pid int, path string) bool {
	if st, ok := readProcStat(pid); !ok || !st.live() {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	return path == "" || argv0 == path
}

// PIDAlive reports whether pid names a live process (not a zombie),
// whatever program it runs.
func PIDAlive(pid int) bool {
	return pid > 0 && pidRuns(pid, "")
}
