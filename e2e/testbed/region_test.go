package testbed_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/fedstate/fedstate/e2e/testbed"
)

// pgBin holds the PostgreSQL 15 programs of the Debian and Ubuntu
// packages.
const pgBin = "/usr/lib/postgresql/15/bin"

// sleeper is a program that runs until it is killed: a shell waiting for a
// child, so that signals have a process group to reach. It prints
// $GREETING first.
func sleeper(name string) testbed.ProcessSpec {
	return testbed.ProcessSpec{
		Name: name,
		Path: "sh",
		Args: []string{"-c", `echo "greeting: $GREETING"; sleep 1000 & wait`},
		Env:  []string{"GREETING=hello from " + name},
	}
}

func TestAddedProcessStopsStartsPausesAndResumes(t *testing.T) {
	bed := sharedBed(t)
	member := testbed.DefaultMembers()[0].Name
	if err := bed.AddProcess(member, sleeper("sleeper")); err != nil {
		t.Fatalf("add process: %v", err)
	}
	t.Cleanup(func() {
		if err := bed.RemoveProcess(member, "sleeper"); err != nil {
			t.Errorf("remove process: %v", err)
		}
	})
	if err := bed.AddProcess(member, sleeper("sleeper")); err == nil {
		t.Error("a second process called sleeper was added")
	}
	if err := bed.AddProcess(member, testbed.ProcessSpec{Name: "Bad/Name", Path: "sh"}); err == nil {
		t.Error("a process called Bad/Name was added")
	}
	if err := bed.PauseProcess(member, "nobody"); err == nil {
		t.Error("pausing an unknown process succeeded")
	}

	pid := extraPID(t, bed, member, "sleeper")
	if !testbed.PIDAlive(pid) {
		t.Fatalf("sleeper (pid %d) does not run", pid)
	}
	log := filepath.Join(bed.Dir(), member, "sleeper.log")
	waitFor(t, "the greeting in "+log, func() bool {
		b, err := os.ReadFile(log)
		return err == nil && strings.Contains(string(b), "greeting: hello from sleeper")
	})
	attached, err := testbed.Attach(bed.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if got := extraPID(t, attached, member, "sleeper"); got != pid {
		t.Errorf("attached bed records pid %d, want %d", got, pid)
	}
	if !slices.Contains(bed.PIDs(), pid) {
		t.Errorf("PIDs() = %v does not list the sleeper (pid %d)", bed.PIDs(), pid)
	}

	if err := bed.PauseProcess(member, "sleeper"); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if st := procState(pid); st != 'T' {
		t.Errorf("paused sleeper is in state %c, want T", st)
	}
	if err := bed.ResumeProcess(member, "sleeper"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	waitFor(t, "the sleeper to run again", func() bool {
		st := procState(pid)
		return st != 'T' && st != 0
	})

	if err := bed.StopProcess(member, "sleeper"); err != nil {
		t.Fatalf("stop process: %v", err)
	}
	if testbed.PIDAlive(pid) {
		t.Errorf("sleeper (pid %d) runs after StopProcess", pid)
	}
	if got := extraPID(t, bed, member, "sleeper"); got != 0 {
		t.Errorf("stopped sleeper recorded with pid %d, want 0", got)
	}
	if err := bed.StartProcess(member, "sleeper"); err != nil {
		t.Fatalf("start process: %v", err)
	}
	again := extraPID(t, bed, member, "sleeper")
	if again == 0 || !testbed.PIDAlive(again) {
		t.Fatalf("sleeper (pid %d) does not run after StartProcess", again)
	}
	if again == pid {
		t.Errorf("restarted sleeper has the old pid %d", pid)
	}
}

func TestStopClusterKillsAddedProcessesAndPostgres(t *testing.T) {
	pg := postgresOrSkip(t)
	bed := sharedBed(t)
	member := testbed.DefaultMembers()[2].Name
	if err := bed.AddProcess(member, sleeper("agent")); err != nil {
		t.Fatalf("add process: %v", err)
	}
	t.Cleanup(func() {
		if err := bed.RemoveProcess(member, "agent"); err != nil {
			t.Errorf("remove process: %v", err)
		}
	})

	// Every folder from the state folder down to a volume is open to the
	// postgres user.
	vol := filepath.Join(bed.VolumeDir(member), "0")
	for d := vol; len(d) >= len(bed.Dir()); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s has mode %v, want 0755", d, fi.Mode().Perm())
		}
	}

	data := filepath.Join(vol, "pgdata")
	pg.initdb(t, data)
	pg.start(t, data)
	pg.psql(t, "CREATE TABLE survivor (v int); INSERT INTO survivor VALUES (42)")
	postmaster := postmasterPID(t, data)
	children := childrenOf(postmaster)
	if len(children) == 0 {
		t.Fatalf("postmaster %d has no children", postmaster)
	}
	agent := extraPID(t, bed, member, "agent")

	// A postmaster.pid naming a live process that is not PostgreSQL (its
	// PID was reused) must not get that process killed.
	bystander := exec.Command("sleep", "1000")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bystander.Process.Kill()
		_ = bystander.Wait()
	})
	stale := filepath.Join(bed.VolumeDir(member), "1", "pgdata")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stale) })
	if err := os.WriteFile(filepath.Join(stale, "postmaster.pid"), []byte(strconv.Itoa(bystander.Process.Pid)+"\n"+stale+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := bed.StopCluster(member); err != nil {
		t.Fatalf("stop %s: %v", member, err)
	}
	t.Cleanup(func() {
		// Leave the shared bed whole even when the test fails midway.
		if c, err := bed.Cluster(member); err == nil && c.Processes[0].PID == 0 {
			if err := bed.StartCluster(context.Background(), member); err != nil {
				t.Errorf("start %s: %v", member, err)
			}
		}
	})
	if testbed.PIDAlive(agent) {
		t.Errorf("added process (pid %d) runs after StopCluster", agent)
	}
	if testbed.PIDAlive(postmaster) {
		t.Errorf("postmaster (pid %d) runs after StopCluster", postmaster)
	}
	for _, pid := range children {
		if testbed.PIDAlive(pid) {
			t.Errorf("PostgreSQL process %d (child of the postmaster) runs after StopCluster", pid)
		}
	}
	if !testbed.PIDAlive(bystander.Process.Pid) {
		t.Errorf("StopCluster killed pid %d, named by a postmaster.pid but not PostgreSQL", bystander.Process.Pid)
	}

	if err := bed.StartCluster(t.Context(), member); err != nil {
		t.Fatalf("start %s: %v", member, err)
	}
	again := extraPID(t, bed, member, "agent")
	if again == 0 || !testbed.PIDAlive(again) {
		t.Fatalf("added process (pid %d) does not run after StartCluster", again)
	}
	if got := postmasterPID(t, data); testbed.PIDAlive(got) {
		t.Errorf("StartCluster started PostgreSQL (pid %d)", got)
	}
	pg.start(t, data)
	if got := pg.psql(t, "SELECT v FROM survivor"); got != "42" {
		t.Errorf("after the region came back: survivor holds %q, want 42", got)
	}
	pg.stop(t, data)
}

// postgres runs PostgreSQL 15 programs as the postgres user, on a loopback
// port with a socket folder of its own.
type postgres struct {
	port    int
	sockets string
	uid     int
	gid     int
}

// postgresOrSkip skips the test unless it runs as root on a machine with
// PostgreSQL 15 and a postgres user.
func postgresOrSkip(t *testing.T) *postgres {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run PostgreSQL as the postgres user")
	}
	if _, err := os.Stat(filepath.Join(pgBin, "pg_ctl")); err != nil {
		t.Skipf("needs PostgreSQL 15: %v", err)
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("needs a postgres user: %v", err)
	}
	pg := &postgres{}
	if pg.uid, err = strconv.Atoi(u.Uid); err != nil {
		t.Fatal(err)
	}
	if pg.gid, err = strconv.Atoi(u.Gid); err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are short (108 bytes) and t.TempDir is closed to
	// other users.
	if pg.sockets, err = os.MkdirTemp("", "pg-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pg.sockets) })
	if err := os.Chown(pg.sockets, pg.uid, pg.gid); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	return pg
}

// run runs a PostgreSQL program as the postgres user and returns its
// output, trimmed.
func (pg *postgres) run(t *testing.T, program string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, program)}, args...)...)
	cmd.Dir = pg.sockets
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", program, strings.Join(args, " "), err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// initdb makes a data directory owned by postgres and initialises it.
func (pg *postgres) initdb(t *testing.T, data string) {
	t.Helper()
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// After the test's own stop; a no-op then.
		cmd := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pgBin, "pg_ctl"), "stop", "-m", "immediate", "-D", data)
		_ = cmd.Run() // fails when no server runs, the usual case
		os.RemoveAll(data)
	})
	if err := os.Chown(data, pg.uid, pg.gid); err != nil {
		t.Fatal(err)
	}
	pg.run(t, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")
}

// start starts the server and waits until it accepts connections.
func (pg *postgres) start(t *testing.T, data string) {
	t.Helper()
	pg.run(t, "pg_ctl", "start", "-w", "-D", data, "-l", filepath.Join(data, "server.log"),
		"-o", "-k "+pg.sockets+" -p "+strconv.Itoa(pg.port)+" -c listen_addresses=127.0.0.1")
}

// stop stops the server with a fast shutdown.
func (pg *postgres) stop(t *testing.T, data string) {
	t.Helper()
	pg.run(t, "pg_ctl", "stop", "-w", "-m", "fast", "-D", data)
}

// psql runs SQL over TCP and returns the unaligned result.
func (pg *postgres) psql(t *testing.T, sql string) string {
	t.Helper()
	return pg.run(t, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", "postgres",
		"-v", "ON_ERROR_STOP=1", "-Atc", sql)
}

// postmasterPID reads the first line of the data directory's
// postmaster.pid.
func postmasterPID(t *testing.T, data string) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid of %s: %v", data, err)
	}
	return pid
}

// childrenOf lists the live processes whose parent is ppid.
func childrenOf(ppid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) && testbed.PIDAlive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// procState is the state letter of /proc/<pid>/stat (T for stopped); 0
// when there is no such process.
func procState(pid int) byte {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 || i+2 >= len(raw) {
		return 0
	}
	return raw[i+2]
}

// extraPID is the recorded PID of a program added to cluster.
func extraPID(t *testing.T, bed *testbed.Bed, cluster, name string) int {
	t.Helper()
	c, err := bed.Cluster(cluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Extra {
		if p.Name == cluster+"/"+name {
			return p.PID
		}
	}
	t.Fatalf("%s has no process %s", cluster, name)
	return 0
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
