package testbed

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// ProcessSpec describes a program that belongs to a cluster of the bed,
// such as the member agent of a member cluster.
type ProcessSpec struct {
	// Name of the program within its cluster, a DNS label such as "agent".
	// The process is called "<cluster>/<name>" and its output goes to
	// <state folder>/<cluster>/<name>.log.
	Name string
	// Path of the program; a name without a slash is looked up in PATH.
	Path string
	// Args are the program's arguments.
	Args []string
	// Env holds "KEY=value" entries added to the environment the program
	// inherits from the process that starts it (the test, or fedctl after
	// Attach); later entries win.
	Env []string
}

// AddProcess records a program as part of a cluster and starts it if the
// cluster's API server runs; otherwise the program starts with the
// cluster (StartCluster). From then on the program is stopped by
// StopCluster and Close and started again by StartCluster after the
// cluster's API server and nodes are ready. It returns once the process
// is started, without waiting for the program to be ready.
func (b *Bed) AddProcess(cluster string, spec ProcessSpec) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.clusterLocked(cluster)
	if err != nil {
		return err
	}
	if !dnsLabel.MatchString(spec.Name) {
		return fmt.Errorf("testbed: add process to %s: name %q is not a DNS label", cluster, spec.Name)
	}
	name := cluster + "/" + spec.Name
	if slices.ContainsFunc(slices.Concat(c.Processes, c.Extra), func(p Process) bool { return p.Name == name }) {
		return fmt.Errorf("testbed: add process to %s: %s exists", cluster, name)
	}
	path, err := exec.LookPath(spec.Path)
	if err != nil {
		return fmt.Errorf("testbed: add process %s: %w", name, err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return fmt.Errorf("testbed: add process %s: %w", name, err)
	}
	p := Process{
		Name: name,
		Path: path,
		Args: slices.Clone(spec.Args),
		Env:  slices.Clone(spec.Env),
		Log:  filepath.Join(b.state.Dir, cluster, spec.Name+".log"),
	}
	if b.sup.running(&c.Processes[0]) {
		if err := b.sup.start(&p); err != nil {
			return err
		}
	}
	c.Extra = append(c.Extra, p)
	return b.state.save()
}

// RemoveProcess stops a program added with AddProcess (SIGTERM, then
// SIGKILL after Config.StopTimeout) and forgets it.
func (b *Bed) RemoveProcess(cluster, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, p, err := b.extraLocked(cluster, name)
	if err != nil {
		return err
	}
	if err := b.sup.stop([]*Process{p}, b.stopTimeout); err != nil {
		return fmt.Errorf("testbed: remove process: %w", err)
	}
	c.Extra = slices.DeleteFunc(c.Extra, func(q Process) bool { return q.Name == p.Name })
	return b.state.save()
}

// StopProcess kills a program added with AddProcess with SIGKILL, as in a
// crash, and waits until it is gone; the rest of its cluster keeps
// running. Stopping a program that does not run does nothing.
func (b *Bed) StopProcess(cluster, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, p, err := b.extraLocked(cluster, name)
	if err != nil {
		return err
	}
	ps := []*Process{p}
	if err := b.sup.kill(ps, ps); err != nil {
		return fmt.Errorf("testbed: stop process: %w", err)
	}
	return b.state.save()
}

// StartProcess starts a program added with AddProcess again, after
// StopProcess or a crash. Starting a program that runs does nothing; a
// program of a stopped cluster starts with the cluster, so starting it
// alone is an error.
func (b *Bed) StartProcess(cluster, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, p, err := b.extraLocked(cluster, name)
	if err != nil {
		return err
	}
	if b.sup.running(p) {
		return nil
	}
	if !b.sup.running(&c.Processes[0]) {
		return fmt.Errorf("testbed: start %s: cluster %s is stopped", p.Name, cluster)
	}
	if err := b.sup.start(p); err != nil {
		return err
	}
	return b.state.save()
}

// PauseProcess stops a program added with AddProcess with SIGSTOP, as in
// a process that hangs, and waits until the kernel reports it stopped.
// ResumeProcess lets it go on; StopCluster, StopProcess and Close kill it
// paused or not.
func (b *Bed) PauseProcess(cluster, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, p, err := b.extraLocked(cluster, name)
	if err != nil {
		return err
	}
	if !b.sup.running(p) {
		return fmt.Errorf("testbed: pause %s: not running", p.Name)
	}
	b.sup.signal(p, syscall.SIGSTOP)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, ok := readProcStat(p.PID)
		if !ok || !st.live() {
			return fmt.Errorf("testbed: pause %s: exited", p.Name)
		}
		if st.state == 'T' {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testbed: pause %s: still in state %c after SIGSTOP", p.Name, st.state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ResumeProcess sends SIGCONT to a program paused with PauseProcess.
// Resuming a program that does not run does nothing.
func (b *Bed) ResumeProcess(cluster, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, p, err := b.extraLocked(cluster, name)
	if err != nil {
		return err
	}
	if b.sup.running(p) {
		b.sup.signal(p, syscall.SIGCONT)
	}
	return nil
}

// extraLocked finds the program called name that was added to cluster.
func (b *Bed) extraLocked(cluster, name string) (*Cluster, *Process, error) {
	c, err := b.clusterLocked(cluster)
	if err != nil {
		return nil, nil, err
	}
	for i := range c.Extra {
		if c.Extra[i].Name == cluster+"/"+name {
			return c, &c.Extra[i], nil
		}
	}
	return nil, nil, fmt.Errorf("testbed: no process %q in cluster %s", name, cluster)
}
