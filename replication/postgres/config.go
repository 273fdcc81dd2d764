package postgres

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Config configures one local PostgreSQL server managed by an Instance.
// Paths are absolute; sizes are in megabytes; durations are time.Duration.
type Config struct {
	// Name is the replica's name (a DNS label such as "db-3"). Standbys
	// connect with it as application_name, which is what a primary's
	// synchronous_standby_names and replication slots refer to.
	Name string
	// DataDir is the server's data directory. Init and Seed create it
	// (mode 0700, owned by OSUser), and missing parents with mode 0755; the
	// parents must let OSUser through.
	DataDir string
	// SocketDir is the server's Unix socket directory (unix_socket_directories),
	// created with mode 0700 and owned by OSUser, so that only OSUser and root
	// reach the trusted local socket the Instance itself connects through.
	SocketDir string
	// LogFile is the server's log (pg_ctl -l); empty means DataDir+".log"
	// beside the data directory, so that base backups and rewinds never copy it.
	LogFile string
	// Listen is the address the server listens on, the pod's IP.
	Listen netip.Addr
	// Port is the TCP port, also part of the Unix socket's name.
	Port uint16
	// BinDir holds initdb, pg_ctl, pg_controldata, pg_basebackup and pg_rewind.
	BinDir string
	// OSUser runs those binaries when this process runs as root, since the
	// server refuses to run as root; ignored otherwise.
	OSUser string
	// Superuser is the database superuser initdb creates; the Instance
	// connects as it over the Unix socket.
	Superuser string
	// ReplicationUser is the role standbys connect as, for streaming,
	// pg_basebackup and pg_rewind.
	ReplicationUser string
	// ReplicationPassword authenticates ReplicationUser (scram-sha-256).
	// Empty means no password: replication connections are trusted, which
	// Validate only allows from loopback ReplicationNetworks.
	ReplicationPassword string
	// ReplicationNetworks are the client networks allowed to connect as
	// ReplicationUser (pg_hba.conf).
	ReplicationNetworks []netip.Prefix
	// ClientNetworks are the networks applications may connect from over
	// TCP, to any database as any role, authenticated by ClientAuth. None:
	// clients reach the server through its Unix socket only.
	ClientNetworks []netip.Prefix
	// ClientAuth is how those clients authenticate: "scram-sha-256" (the
	// default when empty; the roles need passwords) or "trust", which
	// Validate only allows from loopback ClientNetworks.
	ClientAuth string
	// MaxWALSenders is max_wal_senders: standbys, base backups and rewinds
	// connected at once.
	MaxWALSenders int
	// MaxReplicationSlots is max_replication_slots.
	MaxReplicationSlots int
	// WALKeepSize is wal_keep_size in megabytes: log kept for standbys
	// without a slot, and for a rewound server to catch up from.
	WALKeepSize int
	// MaxSlotWALKeepSize is max_slot_wal_keep_size in megabytes; -1 keeps
	// log for a slot without bound.
	MaxSlotWALKeepSize int
	// Settings are further server settings written to the configuration
	// by Init (for example shared_buffers), as name to value.
	Settings map[string]string
	// NoSync skips the final flush to disk of initdb, pg_basebackup and
	// pg_rewind (their --no-sync): faster, for throwaway servers such as
	// tests only, since a machine crash right after can corrupt the copy.
	NoSync bool
	// RequestTimeout bounds each connection and short SQL exchange.
	RequestTimeout time.Duration
	// StartTimeout bounds a server start, including crash recovery.
	StartTimeout time.Duration
	// StopTimeout bounds a server stop.
	StopTimeout time.Duration
	// PromoteTimeout bounds a promotion (pg_promote's wait_seconds).
	PromoteTimeout time.Duration
	// CopyTimeout bounds one pg_basebackup or pg_rewind run.
	CopyTimeout time.Duration
	// PollInterval is the pause between two probes while waiting for a
	// condition (replay position, setting reloaded).
	PollInterval time.Duration
}

// Endpoint is where a server accepts replication connections.
type Endpoint struct {
	// Host is an IP address or a DNS name.
	Host string
	// Port is the TCP port.
	Port uint16
}

// String returns host:port.
func (e Endpoint) String() string { return fmt.Sprintf("%s:%d", e.Host, e.Port) }

func (e Endpoint) validate() error {
	if e.Host == "" || strings.ContainsAny(e.Host, " \t\n'\\/=") {
		return fmt.Errorf("endpoint host %q: must be an address or a DNS name", e.Host)
	}
	if e.Port == 0 {
		return fmt.Errorf("endpoint %s: port must not be 0", e)
	}
	return nil
}

// DefaultConfig returns the settings of a replica in a pod: the Debian
// PostgreSQL 15 binaries, port 5432, the postgres OS user and superuser.
// Name, DataDir, SocketDir and Listen are per replica and left empty.
func DefaultConfig() Config {
	return Config{
		Port:            5432,
		BinDir:          "/usr/lib/postgresql/15/bin",
		OSUser:          "postgres",
		Superuser:       "postgres",
		ReplicationUser: "replicator",
		ReplicationNetworks: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		// A federated service has a handful of replicas; 10 leaves room for
		// every standby plus a base backup and a rewind at once.
		MaxWALSenders:       10,
		MaxReplicationSlots: 10,
		// 256 MB (16 segments): a standby restarting or a server rewound
		// after a failover finds the log it needs without a base backup.
		WALKeepSize: 256,
		// 4 GB: a slot of a standby that is gone cannot fill the disk;
		// past this the standby needs a new base backup.
		MaxSlotWALKeepSize: 4096,
		// Five seconds: a local server answers in milliseconds, a standby
		// across regions in a few hundred.
		RequestTimeout: 5 * time.Second,
		// Five minutes: crash recovery replays up to a checkpoint interval.
		StartTimeout: 5 * time.Minute,
		// One minute: a fast shutdown writes one checkpoint.
		StopTimeout: time.Minute,
		// Thirty seconds: promotion replays what is left of the received log.
		PromoteTimeout: 30 * time.Second,
		// One hour: a base backup copies the whole database.
		CopyTimeout: time.Hour,
		// 100 ms: waits end a tenth of a second after their condition holds.
		PollInterval: 100 * time.Millisecond,
	}
}

// dnsLabel is a lower-case RFC 1123 label, what replica names are.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// roleName is a role name that needs no care on command lines and in
// pg_hba.conf.
var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path
// holds 108 bytes with the terminating NUL).
const maxSocketPath = 107

// Validate reports every bad field at once.
func (c Config) Validate() error {
	var errs []error
	if !dnsLabel.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name %q: must be a lower-case DNS label", c.Name))
	}
	for _, p := range []struct{ field, path string }{
		{"dataDir", c.DataDir}, {"socketDir", c.SocketDir}, {"binDir", c.BinDir}} {
		if !filepath.IsAbs(p.path) || filepath.Clean(p.path) != p.path {
			errs = append(errs, fmt.Errorf("%s %q: must be a clean absolute path", p.field, p.path))
		}
	}
	if c.LogFile != "" && !filepath.IsAbs(c.LogFile) {
		errs = append(errs, fmt.Errorf("logFile %q: must be an absolute path", c.LogFile))
	}
	if strings.ContainsAny(c.SocketDir, " \t\n,'\"\\") {
		errs = append(errs, fmt.Errorf("socketDir %q: must not contain spaces, commas, quotes or backslashes (the server reads a list)", c.SocketDir))
	}
	if sock := socketPath(c.SocketDir, c.Port); len(sock) > maxSocketPath {
		errs = append(errs, fmt.Errorf("socketDir %q: socket path %s is longer than %d bytes", c.SocketDir, sock, maxSocketPath))
	}
	if !c.Listen.IsValid() || c.Listen.Zone() != "" {
		errs = append(errs, fmt.Errorf("listen %v: must be an IP address", c.Listen))
	}
	if c.Port == 0 {
		errs = append(errs, errors.New("port: must not be 0"))
	}
	if c.OSUser == "" {
		errs = append(errs, errors.New("osUser: must not be empty"))
	}
	for _, r := range []struct{ field, name string }{
		{"superuser", c.Superuser}, {"replicationUser", c.ReplicationUser}} {
		if !roleName.MatchString(r.name) {
			errs = append(errs, fmt.Errorf("%s %q: must be a lower-case role name", r.field, r.name))
		}
	}
	if c.ReplicationUser == c.Superuser {
		errs = append(errs, fmt.Errorf("replicationUser %q: must differ from the superuser", c.ReplicationUser))
	}
	if len(c.ReplicationNetworks) == 0 {
		errs = append(errs, errors.New("replicationNetworks: at least one is required"))
	}
	for i, n := range c.ReplicationNetworks {
		switch {
		case !n.IsValid():
			errs = append(errs, fmt.Errorf("replicationNetworks[%d]: invalid prefix", i))
		case c.ReplicationPassword == "" && !n.Addr().IsLoopback():
			errs = append(errs, fmt.Errorf("replicationNetworks[%d] %v: trusted (no replicationPassword) replication is only allowed from loopback", i, n))
		}
	}
	if c.ClientAuth != "" && c.ClientAuth != "scram-sha-256" && c.ClientAuth != "trust" {
		errs = append(errs, fmt.Errorf("clientAuth %q: must be scram-sha-256 or trust", c.ClientAuth))
	}
	for i, n := range c.ClientNetworks {
		switch {
		case !n.IsValid():
			errs = append(errs, fmt.Errorf("clientNetworks[%d]: invalid prefix", i))
		case c.ClientAuth == "trust" && !n.Addr().IsLoopback():
			errs = append(errs, fmt.Errorf("clientNetworks[%d] %v: trusted clients are only allowed from loopback", i, n))
		}
	}
	if strings.ContainsAny(c.ReplicationPassword, "\n\x00") {
		errs = append(errs, errors.New("replicationPassword: must not contain a newline or NUL"))
	}
	if c.MaxWALSenders < 2 {
		errs = append(errs, fmt.Errorf("maxWALSenders %d: at least 2 (a standby and a base backup)", c.MaxWALSenders))
	}
	if c.MaxReplicationSlots < 1 {
		errs = append(errs, fmt.Errorf("maxReplicationSlots %d: must be positive", c.MaxReplicationSlots))
	}
	if c.WALKeepSize < 0 {
		errs = append(errs, fmt.Errorf("walKeepSize %d: must not be negative", c.WALKeepSize))
	}
	if c.MaxSlotWALKeepSize < -1 {
		errs = append(errs, fmt.Errorf("maxSlotWALKeepSize %d: must be -1 or more", c.MaxSlotWALKeepSize))
	}
	for name, value := range c.Settings {
		if !settingName.MatchString(name) || managed(name) {
			errs = append(errs, fmt.Errorf("settings %q: not a setting name, or one the Instance manages", name))
		}
		if strings.ContainsAny(value, "\n\x00") {
			errs = append(errs, fmt.Errorf("settings %q: value must not contain a newline or NUL", name))
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"requestTimeout", c.RequestTimeout}, {"startTimeout", c.StartTimeout}, {"stopTimeout", c.StopTimeout},
		{"promoteTimeout", c.PromoteTimeout}, {"copyTimeout", c.CopyTimeout}, {"pollInterval", c.PollInterval}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", d.field, d.v))
		}
	}
	if c.PromoteTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("promoteTimeout %v: must be whole seconds (pg_promote's unit)", c.PromoteTimeout))
	}
	return errors.Join(errs...)
}

// socketPath is the path of the server's Unix socket.
func socketPath(dir string, port uint16) string {
	return filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", port))
}

// logFile is LogFile or its default.
func (c Config) logFile() string {
	if c.LogFile != "" {
		return c.LogFile
	}
	return c.DataDir + ".log"
}
