package postgres

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Files the Instance writes in the data directory.
const (
	// settingsFile holds the server settings Init derives from Config;
	// postgresql.conf includes it last.
	settingsFile = "fedstate.conf"
	// autoConfFile is where ALTER SYSTEM keeps its settings.
	autoConfFile = "postgresql.auto.conf"
	// standbySignal makes the server start as a standby.
	standbySignal = "standby.signal"
)

// includeLine is appended once to postgresql.conf to load settingsFile.
const includeLine = "include_if_exists = '" + settingsFile + "'\t# fedstate replication settings\n"

// settingName is the shape of a server setting's name.
var settingName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$`)

// managed reports whether the Instance sets the setting itself, on the
// command line, in settingsFile or with ALTER SYSTEM; Config.Settings may
// not name it.
func managed(name string) bool {
	switch name {
	case "listen_addresses", "port", "unix_socket_directories", "unix_socket_permissions",
		"data_directory", "hba_file", "config_file", "include", "include_dir", "include_if_exists",
		"wal_level", "hot_standby", "wal_log_hints", "max_wal_senders", "max_replication_slots",
		"wal_keep_size", "max_slot_wal_keep_size", "recovery_target_timeline",
		"primary_conninfo", "primary_slot_name", "synchronous_standby_names", "synchronous_commit",
		"default_transaction_read_only":
		return true
	}
	return false
}

// serverSettings renders settingsFile: what streaming replication, hot
// standbys and pg_rewind need, then Config.Settings in name order.
func serverSettings(c Config) string {
	var b strings.Builder
	b.WriteString("# Written by the fedstate replication driver at each Init; edits are lost.\n")
	line := func(name, value string) { fmt.Fprintf(&b, "%s = %s\n", name, quoteConf(value)) }
	line("wal_level", "replica")
	line("hot_standby", "on")
	// Data checksums (initdb -k) already log hint bits; this keeps pg_rewind
	// possible on a cluster made without them.
	line("wal_log_hints", "on")
	line("max_wal_senders", strconv.Itoa(c.MaxWALSenders))
	line("max_replication_slots", strconv.Itoa(c.MaxReplicationSlots))
	line("wal_keep_size", fmt.Sprintf("%dMB", c.WALKeepSize))
	if c.MaxSlotWALKeepSize < 0 {
		line("max_slot_wal_keep_size", "-1")
	} else {
		line("max_slot_wal_keep_size", fmt.Sprintf("%dMB", c.MaxSlotWALKeepSize))
	}
	line("recovery_target_timeline", "latest")
	// A standby whose primary died retries its connection after this
	// (default 5 s); after a failover the new primary's synchronous
	// commits wait for a standby to reconnect, so retry quickly.
	line("wal_retrieve_retry_interval", "500ms")
	line("unix_socket_permissions", "0700")
	for _, name := range slices.Sorted(maps.Keys(c.Settings)) {
		line(name, c.Settings[name])
	}
	return b.String()
}

// hbaRules renders pg_hba.conf: the superuser and everyone else locally
// over the Unix socket, whose directory only the OS user and root can
// enter; the replication user from ReplicationNetworks for streaming and
// base backups, and to the postgres database for pg_rewind and the
// timeline checks of Follow.
func hbaRules(c Config) string {
	method := "scram-sha-256"
	if c.ReplicationPassword == "" {
		method = "trust"
	}
	var b strings.Builder
	b.WriteString("# Written by the fedstate replication driver at each Init; edits are lost.\n")
	b.WriteString("# TYPE\tDATABASE\tUSER\tADDRESS\tMETHOD\n")
	b.WriteString("local\tall\tall\t\ttrust\n")
	for _, db := range []string{"replication", "postgres"} {
		for _, n := range c.ReplicationNetworks {
			fmt.Fprintf(&b, "host\t%s\t%s\t%s\t%s\n", db, c.ReplicationUser, n.Masked(), method)
		}
	}
	clients := c.ClientAuth
	if clients == "" {
		clients = "scram-sha-256"
	}
	for _, n := range c.ClientNetworks {
		fmt.Fprintf(&b, "host\tall\tall\t%s\t%s\n", n.Masked(), clients)
	}
	return b.String()
}

// writeConfig writes settingsFile and pg_hba.conf and makes postgresql.conf
// include settingsFile; a running server sees them at its next reload.
func (in *Instance) writeConfig() error {
	dir := in.cfg.DataDir
	if err := in.run.writeFile(filepath.Join(dir, settingsFile), []byte(serverSettings(in.cfg))); err != nil {
		return err
	}
	if err := in.run.writeFile(filepath.Join(dir, "pg_hba.conf"), []byte(hbaRules(in.cfg))); err != nil {
		return err
	}
	conf := filepath.Join(dir, "postgresql.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return fmt.Errorf("read postgresql.conf: %w", err)
	}
	if strings.Contains(string(b), includeLine) {
		return nil
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return in.run.writeFile(conf, append(b, includeLine...))
}
