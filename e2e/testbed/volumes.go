package testbed

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// VolumeDir is the folder holding the hostPath PersistentVolumes of the
// member called member: volume i is VolumeDir(member)/<i>. Programs that
// serve a pod's volume (PostgreSQL run by the member agent) keep their
// data there, and StopCluster kills the PostgreSQL servers it finds there.
func (b *Bed) VolumeDir(member string) string {
	return filepath.Join(b.state.Dir, "pv", member)
}

// makeVolumes creates the folder of each of a member's n volumes, and the
// folders above them up to the state folder, with mode 0755: the programs
// using a volume may run as another user (PostgreSQL as postgres).
func makeVolumes(dir string, n int) error {
	paths := []string{filepath.Dir(dir), dir}
	for i := range n {
		paths = append(paths, filepath.Join(dir, itoa(i)))
	}
	for _, p := range paths {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("make volume folder: %w", err)
		}
		// MkdirAll leaves existing folders alone and the umask may have
		// taken bits away.
		if err := os.Chmod(p, 0o755); err != nil {
			return fmt.Errorf("make volume folder: %w", err)
		}
	}
	return nil
}

// closedAncestor returns the first folder above dir that other users
// cannot enter, or "" when every one of them is open.
func closedAncestor(dir string) string {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			return d
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// postmasterPatterns are where killPostgres looks for postmaster.pid, the
// lock file PostgreSQL keeps in its data directory, below a volume folder:
// a data directory may be the volume itself (pv/eu-1/3) or sit one or two
// levels down (pv/eu-1/3/pgdata).
var postmasterPatterns = []string{"*/postmaster.pid", "*/*/postmaster.pid", "*/*/*/postmaster.pid"}

// postgresComm is the command name of every PostgreSQL server process.
const postgresComm = "postgres"

// KillPostgres kills with SIGKILL every PostgreSQL server whose data
// directory is under dir (at most three levels down), the postmaster and
// its children alike, and waits until they are gone or timeout passed. It
// is what StopCluster does to the servers of a member's volumes, for
// servers run outside the test bed.
func KillPostgres(dir string, timeout time.Duration) error {
	return killPostgres(dir, timeout)
}

// killPostgres kills with SIGKILL every PostgreSQL server whose data
// directory is under dir, the postmaster and its children (backends and
// auxiliary processes) alike, and waits until they are gone. It looks
// again once they are, so that a server started meanwhile dies too, and
// gives up after timeout.
func killPostgres(dir string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		victims := postgresProcesses(dir)
		if len(victims) == 0 {
			return nil
		}
		for _, v := range victims {
			_ = syscall.Kill(v.pid, syscall.SIGKILL)
		}
		for {
			var live []int
			for _, v := range victims {
				if v.alive() {
					live = append(live, v.pid)
				}
			}
			if len(live) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("testbed: PostgreSQL processes %v under %s did not exit", live, dir)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// postgresProcesses lists the live processes of the PostgreSQL servers
// whose data directories are under dir: each postmaster named by the first
// line of a postmaster.pid, or working in a directory under dir (a server
// whose data directory was emptied under it keeps running without its
// lock file), then its children.
func postgresProcesses(dir string) []procStat {
	var out []procStat
	postmasters := map[int]bool{}
	for _, pattern := range postmasterPatterns {
		files, _ := filepath.Glob(filepath.Join(dir, pattern)) // only a bad pattern fails
		for _, f := range files {
			if st, ok := postmaster(f); ok && !postmasters[st.pid] {
				postmasters[st.pid] = true
				out = append(out, st)
			}
		}
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	var servers []procStat
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if st, ok := readProcStat(pid); ok && st.comm == postgresComm && st.live() {
				servers = append(servers, st)
			}
		}
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		root = dir
	}
	for _, st := range servers {
		if !postmasters[st.pid] && worksUnder(st.pid, root) {
			postmasters[st.pid] = true
			out = append(out, st)
		}
	}
	for _, st := range servers {
		if postmasters[st.ppid] && !postmasters[st.pid] {
			out = append(out, st)
		}
	}
	return out
}

// worksUnder reports whether process pid's working directory is under
// root, even if it was removed since. Reading another user's working
// directory takes CAP_SYS_PTRACE: without it, false.
func worksUnder(pid int, root string) bool {
	cwd, err := os.Readlink("/proc/" + itoa(pid) + "/cwd")
	if err != nil {
		return false
	}
	cwd = strings.TrimSuffix(cwd, " (deleted)")
	return cwd == root || strings.HasPrefix(cwd, root+string(filepath.Separator))
}

// postmaster reads the PID on the first line of the postmaster.pid file
// at path and returns that process if it is a live PostgreSQL server of
// this data directory, not a process that reused the PID of a server
// that died without removing its lock file.
func postmaster(path string) (procStat, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, false
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return procStat{}, false
	}
	st, ok := readProcStat(pid)
	if !ok || !st.live() || st.comm != postgresComm {
		return procStat{}, false
	}
	// A postmaster works in its data directory. Reading another user's
	// working directory takes CAP_SYS_PTRACE; without it the command name
	// has to do.
	if cwd, err := os.Readlink("/proc/" + itoa(pid) + "/cwd"); err == nil {
		data, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil || cwd != data {
			return procStat{}, false
		}
	}
	return st, true
}

// procStat is what /proc/<pid>/stat says about a process.
type procStat struct {
	pid int
	// comm is the command name, at most 15 bytes.
	comm string
	// state is R, S, D, T (stopped), Z (zombie), X (dead) and so on.
	state byte
	ppid  int
	// start is the start time in clock ticks after boot; with pid it
	// names a process for good.
	start uint64
}

// readProcStat reads /proc/<pid>/stat; false when there is no such
// process.
func readProcStat(pid int) (procStat, bool) {
	raw, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses,
	// so it ends at the last ')'.
	i, j := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if i < 0 || j < i || j+2 >= len(raw) {
		return procStat{}, false
	}
	// Fields from the third (state) on; starttime is the 22nd.
	f := strings.Fields(string(raw[j+2:]))
	if len(f) < 20 {
		return procStat{}, false
	}
	st := procStat{pid: pid, comm: string(raw[i+1 : j]), state: f[0][0]}
	st.ppid, _ = strconv.Atoi(f[1])
	st.start, _ = strconv.ParseUint(f[19], 10, 64)
	return st, true
}

// live reports whether the process had not exited when it was read.
func (st procStat) live() bool { return st.state != 'Z' && st.state != 'X' }

// alive reports whether the process st describes still runs.
func (st procStat) alive() bool {
	now, ok := readProcStat(st.pid)
	return ok && now.live() && now.start == st.start
}
