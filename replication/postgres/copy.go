package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// copyAppName is the application_name of pg_basebackup's and pg_rewind's
// connections; like checkAppName it can never name a replica.
const copyAppName = "fedstate_copy"

// recoverSingleUser brings a server that was not shut down cleanly to a
// clean shutdown: single-user mode replays its whole log, then writes a
// shutdown checkpoint, as pg_rewind does before rewinding. Single-user mode
// cannot run a standby, so the signal files go first; Follow writes
// standby.signal again.
func (in *Instance) recoverSingleUser(ctx context.Context) (controlData, error) {
	for _, s := range []string{standbySignal, "recovery.signal"} {
		if err := in.removeSignal(s); err != nil {
			return controlData{}, err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, in.cfg.StartTimeout)
	defer cancel()
	if _, err := in.run.run(rctx, nil, "postgres", "--single", "-D", in.cfg.DataDir, "template1"); err != nil {
		return controlData{}, fmt.Errorf("single-user recovery: %w", err)
	}
	cd, err := in.controlData(ctx)
	if err == nil && cd.State != stateShutDown {
		err = fmt.Errorf("single-user recovery left cluster state %q", cd.State)
	}
	return cd, err
}

// rewind stops the server, brings it to a clean shutdown with its whole
// log replayed, and runs pg_rewind against primary, then starts it as a
// standby of primary.
func (in *Instance) rewind(ctx context.Context, primary Endpoint, slot string) error {
	if err := in.stop(ctx, StopFast); err != nil {
		return err
	}
	cd, err := in.controlData(ctx)
	if err != nil {
		return err
	}
	// A standby's control file may not cover all the log it received,
	// which pg_rewind would then not count as diverged.
	if cd.State != stateShutDown {
		if _, err := in.recoverSingleUser(ctx); err != nil {
			return err
		}
	}
	if err := in.checkpointSource(ctx, primary); err != nil {
		return err
	}
	args := []string{"-D", in.cfg.DataDir,
		"--source-server=" + in.replicationConninfo(primary, copyAppName, kv{"dbname", "postgres"})}
	if in.cfg.NoSync {
		args = append(args, "--no-sync")
	}
	rctx, cancel := context.WithTimeout(ctx, in.cfg.CopyTimeout)
	defer cancel()
	out, err := in.run.run(rctx, in.passwordEnv(), "pg_rewind", args...)
	if err != nil {
		return err
	}
	if strings.Contains(out, "no rewind required") {
		return fmt.Errorf("pg_rewind found no divergence from %s, but the log did diverge: %s", primary, tail(out))
	}
	// pg_rewind copied the primary's configuration files over these.
	if err := in.writeConfig(); err != nil {
		return err
	}
	return in.startStandby(ctx, primary, slot)
}

// checkpointSource requests a checkpoint on primary: pg_rewind reads the
// source's timeline from its control file, which a promotion updates only
// at the next checkpoint.
func (in *Instance) checkpointSource(ctx context.Context, primary Endpoint) error {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.PromoteTimeout)
	defer cancel()
	cc, err := pgx.ParseConfig(in.replicationConninfo(primary, copyAppName,
		kv{"password", in.cfg.ReplicationPassword}, kv{"dbname", "postgres"}))
	if err != nil {
		return fmt.Errorf("connection settings: %w", err)
	}
	c, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", primary, err)
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
	if _, err := c.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint on %s: %w", primary, err)
	}
	return nil
}

// basebackup replaces the data directory's contents with a copy of
// primary (pg_basebackup -X stream, with a fast checkpoint so it starts at
// once), then starts the server as its standby. It discards the data only
// once primary answered, so an unreachable primary leaves it in place.
func (in *Instance) basebackup(ctx context.Context, primary Endpoint, slot string) error {
	if _, err := in.identify(ctx, primary); err != nil {
		return err
	}
	if err := in.stop(ctx, StopImmediate); err != nil {
		return err
	}
	if err := in.prepareDirs(); err != nil {
		return err
	}
	if err := emptyDir(in.cfg.DataDir); err != nil {
		return err
	}
	args := []string{"-D", in.cfg.DataDir, "-X", "stream", "-c", "fast", "-w",
		"-d", in.replicationConninfo(primary, copyAppName)}
	if slot != "" {
		args = append(args, "-S", slot)
	}
	if in.cfg.NoSync {
		args = append(args, "--no-sync")
	}
	rctx, cancel := context.WithTimeout(ctx, in.cfg.CopyTimeout)
	defer cancel()
	if _, err := in.run.run(rctx, in.passwordEnv(), "pg_basebackup", args...); err != nil {
		return err
	}
	if err := in.writeConfig(); err != nil {
		return err
	}
	return in.startStandby(ctx, primary, slot)
}
