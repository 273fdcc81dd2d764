package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SyncSpec is a primary's replication setup: which standbys it keeps log
// for and which of them confirm commits.
type SyncSpec struct {
	// Standbys are the replica names of every standby of this primary. Each
	// gets a physical replication slot named SlotName(name); the primary's
	// other physical slots are dropped.
	Standbys []string
	// Synchronous are the names, among Standbys, that may confirm commits.
	Synchronous []string
	// Quorum is how many of Synchronous must confirm each commit before it
	// is acknowledged (ANY Quorum); 0 is asynchronous replication.
	Quorum int
	// Commit is synchronous_commit while Quorum > 0: "on" (the standbys
	// flushed the commit; the default when empty), "remote_write" or
	// "remote_apply" (visible on them).
	Commit string
}

// Validate reports every bad field at once.
func (s SyncSpec) Validate() error {
	var errs []error
	for _, n := range append(slices.Clone(s.Standbys), s.Synchronous...) {
		if !dnsLabel.MatchString(n) {
			errs = append(errs, fmt.Errorf("standby %q: must be a lower-case DNS label", n))
		}
	}
	for _, n := range s.Synchronous {
		if !slices.Contains(s.Standbys, n) {
			errs = append(errs, fmt.Errorf("synchronous standby %q: not among standbys", n))
		}
	}
	if s.Quorum < 0 || s.Quorum > len(s.Synchronous) {
		errs = append(errs, fmt.Errorf("quorum %d: must be 0 to %d (the synchronous standbys)", s.Quorum, len(s.Synchronous)))
	}
	switch s.Commit {
	case "", "on", "remote_write", "remote_apply":
	default:
		errs = append(errs, fmt.Errorf("commit %q: must be on, remote_write or remote_apply", s.Commit))
	}
	return errors.Join(errs...)
}

// syncSettings are synchronous_standby_names and synchronous_commit for s:
// 'ANY k ("a","b")' with the names sorted, or empty for asynchronous.
func (s SyncSpec) syncSettings() map[string]string {
	commit := s.Commit
	if commit == "" || s.Quorum == 0 {
		commit = "on"
	}
	names := ""
	if s.Quorum > 0 {
		quoted := make([]string, 0, len(s.Synchronous))
		for _, n := range slices.Sorted(slices.Values(s.Synchronous)) {
			quoted = append(quoted, `"`+strings.ReplaceAll(n, `"`, `""`)+`"`)
		}
		names = fmt.Sprintf("ANY %d (%s)", s.Quorum, strings.Join(slices.Compact(quoted), ","))
	}
	return map[string]string{"synchronous_standby_names": names, "synchronous_commit": commit}
}

// SlotName is the physical replication slot a primary keeps for the
// replica called name: the name with "-" as "_", since slot names allow
// only lower-case letters, digits and "_". Distinct DNS labels give
// distinct slot names.
func SlotName(name string) string { return strings.ReplaceAll(name, "-", "_") }

// ConfigurePrimary sets synchronous replication to sync (ALTER SYSTEM,
// then a reload it waits to take effect) and makes the physical slots
// those of sync.Standbys: missing ones are created reserving log at once,
// others dropped once unused (one a standby still streams from is left for
// a later call). It works on a standby too, so a candidate can be set up
// before Promote, which calls it. On a fenced server only the slots change:
// Unfence applies the synchronous settings, so the fence stays intact.
func (in *Instance) ConfigurePrimary(ctx context.Context, sync SyncSpec) error {
	if err := in.checkSync(sync); err != nil {
		return err
	}
	unlock, err := in.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return in.configurePrimary(ctx, sync, false)
}

// checkSync validates sync for this replica, which cannot be its own standby.
func (in *Instance) checkSync(sync SyncSpec) error {
	err := sync.Validate()
	if slices.Contains(sync.Standbys, in.cfg.Name) {
		err = errors.Join(err, fmt.Errorf("standby %q: is this replica", in.cfg.Name))
	}
	if err != nil {
		return fmt.Errorf("configure %s: %w", in.cfg.Name, err)
	}
	return nil
}

// configurePrimary applies sync; unfence also lifts the fence.
func (in *Instance) configurePrimary(ctx context.Context, sync SyncSpec, unfence bool) error {
	err := in.withConn(ctx, in.cfg.RequestTimeout, func(ctx context.Context, c *pgx.Conn) error {
		var fenced bool
		if err := c.QueryRow(ctx, `SELECT current_setting('default_transaction_read_only')::bool`).Scan(&fenced); err != nil {
			return err
		}
		if !fenced || unfence {
			set := sync.syncSettings()
			set["default_transaction_read_only"] = "off"
			if err := in.alterSystem(ctx, c, set); err != nil {
				return err
			}
		}
		return in.syncSlots(ctx, c, sync.Standbys)
	})
	if err != nil {
		return fmt.Errorf("configure %s: %w", in.cfg.Name, err)
	}
	return nil
}

// syncSlots makes the physical slots those of standbys.
func (in *Instance) syncSlots(ctx context.Context, c *pgx.Conn, standbys []string) error {
	want := map[string]bool{}
	for _, n := range standbys {
		want[SlotName(n)] = true
	}
	rows, err := c.Query(ctx, `SELECT slot_name::text, active FROM pg_replication_slots WHERE slot_type = 'physical'`)
	if err != nil {
		return err
	}
	type slot struct {
		name   string
		active bool
	}
	have, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (slot, error) {
		var s slot
		return s, r.Scan(&s.name, &s.active)
	})
	if err != nil {
		return fmt.Errorf("list slots: %w", err)
	}
	for _, s := range have {
		if want[s.name] {
			delete(want, s.name)
			continue
		}
		if s.active {
			continue
		}
		if _, err := c.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, s.name); err != nil && !isCode(err, "42704", "55006") {
			return fmt.Errorf("drop slot %s: %w", s.name, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, err := c.Exec(ctx, `SELECT pg_create_physical_replication_slot($1, true)`, name); err != nil && !isCode(err, "42710") {
			return fmt.Errorf("create slot %s: %w", name, err)
		}
	}
	return nil
}

// isCode reports whether err is a server error with one of the SQLSTATE
// codes (42704 undefined_object, 42710 duplicate_object, 55006
// object_in_use: a slot created, dropped or taken by someone else meanwhile).
func isCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && slices.Contains(codes, pe.Code)
}
