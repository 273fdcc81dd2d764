package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// StopMode is how Stop shuts the server down.
type StopMode string

const (
	// StopFast rolls back open transactions, disconnects clients, lets
	// standbys receive the last log and writes a shutdown checkpoint.
	StopFast StopMode = "fast"
	// StopImmediate kills the server at once, as a crash would: nothing
	// more is written or sent, and the next start runs crash recovery. It
	// is the hard fence.
	StopImmediate StopMode = "immediate"
)

// Init creates the database cluster when DataDir holds none: initdb with
// data checksums (which pg_rewind needs), the replication role, and the
// settings and pg_hba.conf rules of serverSettings and hbaRules. A
// directory that already holds a cluster made by Init, or copied from one
// by Seed, only has those two files rewritten, seen at the next start or
// reload. Init leaves the server stopped, unless it was running already.
func (in *Instance) Init(ctx context.Context) error {
	unlock, err := in.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := in.init(ctx); err != nil {
		return fmt.Errorf("init %s: %w", in.cfg.Name, err)
	}
	return nil
}

func (in *Instance) init(ctx context.Context) error {
	if err := in.prepareDirs(); err != nil {
		return err
	}
	done, err := exists(filepath.Join(in.cfg.DataDir, settingsFile))
	if err != nil {
		return err
	}
	if done {
		return in.writeConfig()
	}
	made, err := exists(filepath.Join(in.cfg.DataDir, "PG_VERSION"))
	if err != nil {
		return err
	}
	if !made {
		args := []string{"-D", in.cfg.DataDir, "-U", in.cfg.Superuser, "--data-checksums",
			"--encoding=UTF8", "--auth-local=trust", "--auth-host=scram-sha-256"}
		if in.cfg.NoSync {
			args = append(args, "--no-sync")
		}
		ictx, cancel := context.WithTimeout(ctx, in.cfg.StartTimeout)
		defer cancel()
		if _, err := in.run.run(ictx, nil, "initdb", args...); err != nil {
			return err
		}
	}
	// The role is made on the server itself, started for the purpose
	// without any TCP listener, before the settings file marks Init done.
	if err := in.pgctlStart(ctx, ""); err != nil {
		return err
	}
	roleErr := in.createReplicationRole(ctx)
	if err := errors.Join(roleErr, in.stop(ctx, StopFast)); err != nil {
		return err
	}
	return in.writeConfig()
}

// prepareDirs creates the data and socket directories and the log file,
// owned by the OS user.
func (in *Instance) prepareDirs() error {
	if err := in.run.mkdir(in.cfg.DataDir); err != nil {
		return err
	}
	if err := in.run.mkdir(in.cfg.SocketDir); err != nil {
		return err
	}
	return in.run.touch(in.cfg.logFile())
}

// Start starts the server and returns once it accepts connections (a
// standby: once it reached a consistent state). A running server is left
// alone. It listens on Listen and Port, its socket in SocketDir; these
// are given on the command line, so they override any configuration file
// copied from another replica.
func (in *Instance) Start(ctx context.Context) error {
	unlock, err := in.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := in.start(ctx); err != nil {
		return fmt.Errorf("start %s: %w", in.cfg.Name, err)
	}
	return nil
}

func (in *Instance) start(ctx context.Context) error {
	up, err := in.running(ctx)
	if err != nil || up {
		return err
	}
	made, err := exists(filepath.Join(in.cfg.DataDir, "PG_VERSION"))
	if err != nil {
		return err
	}
	if !made {
		return ErrNoCluster
	}
	// The socket directory may be on a file system emptied by a reboot.
	if err := in.prepareDirs(); err != nil {
		return err
	}
	return in.pgctlStart(ctx, in.cfg.Listen.String())
}

// pgctlStart runs pg_ctl start, listening on listen ("" for no TCP
// listener), and waits until the server accepts connections.
func (in *Instance) pgctlStart(ctx context.Context, listen string) error {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.StartTimeout)
	defer cancel()
	opts := fmt.Sprintf("-c listen_addresses=%s -c port=%d -c unix_socket_directories=%s",
		quoteShell(listen), in.cfg.Port, quoteShell(in.cfg.SocketDir))
	_, err := in.run.run(ctx, nil, "pg_ctl", "start", "-D", in.cfg.DataDir, "-l", in.cfg.logFile(),
		"-w", "-t", strconv.Itoa(seconds(in.cfg.StartTimeout)), "-o", opts)
	return err
}

// Stop stops the server in mode and returns once it is down; a server
// that is not running is left alone.
func (in *Instance) Stop(ctx context.Context, mode StopMode) error {
	if mode != StopFast && mode != StopImmediate {
		return fmt.Errorf("stop %s: unknown mode %q", in.cfg.Name, mode)
	}
	unlock, err := in.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := in.stop(ctx, mode); err != nil {
		return fmt.Errorf("stop %s: %w", in.cfg.Name, err)
	}
	return nil
}

func (in *Instance) stop(ctx context.Context, mode StopMode) error {
	up, err := in.running(ctx)
	if err != nil || !up {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, in.cfg.StopTimeout)
	defer cancel()
	_, err = in.run.run(ctx, nil, "pg_ctl", "stop", "-D", in.cfg.DataDir, "-m", string(mode),
		"-w", "-t", strconv.Itoa(seconds(in.cfg.StopTimeout)))
	return err
}

// Running reports whether the server's postmaster is alive (pg_ctl
// status). It may still be starting or stopping.
func (in *Instance) Running(ctx context.Context) (bool, error) {
	up, err := in.running(ctx)
	if err != nil {
		return false, fmt.Errorf("running %s: %w", in.cfg.Name, err)
	}
	return up, nil
}

func (in *Instance) running(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.RequestTimeout)
	defer cancel()
	_, err := in.run.run(ctx, nil, "pg_ctl", "status", "-D", in.cfg.DataDir)
	switch code := exitCode(err); {
	case err == nil:
		return true, nil
	case code == 3 || code == 4: // not running; no such data directory
		return false, nil
	default:
		return false, err
	}
}

// removeSignal removes a signal file from the data directory.
func (in *Instance) removeSignal(name string) error {
	if err := os.Remove(filepath.Join(in.cfg.DataDir, name)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// seconds is d in whole seconds, rounded up, at least 1: the unit of
// pg_ctl's timeout and pg_promote's wait.
func seconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
