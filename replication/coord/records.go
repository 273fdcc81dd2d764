package coord

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fedstate/fedstate/dnsserver"
)

// Primary is the value of a service's KindPrimary key: the replica promoted
// in Epoch. It changes only in the promotion transaction, together with the
// epoch key, so Primary.Epoch always equals the stored epoch.
type Primary struct {
	// Replica is the ordinal of the primary.
	Replica int `json:"replica"`
	// Epoch is the fencing epoch the replica was promoted in.
	Epoch int64 `json:"epoch"`
}

// Validate reports every problem of the record.
func (p Primary) Validate() error {
	return errors.Join(validateReplica(p.Replica), validateEpoch(p.Epoch))
}

// Holder is the value of a service's KindLease key: which agent keeps the
// primary's lease alive, for which replica and epoch.
type Holder struct {
	// Replica is the ordinal of the primary whose lease this is.
	Replica int `json:"replica"`
	// Epoch the lease was taken in; it equals the stored epoch when taken.
	Epoch int64 `json:"epoch"`
	// Agent is the name of the agent keeping the lease alive.
	Agent string `json:"agent"`
}

// Validate reports every problem of the record.
func (h Holder) Validate() error {
	var errs []error
	errs = append(errs, validateReplica(h.Replica), validateEpoch(h.Epoch))
	if !dnsserver.IsLabel(h.Agent) {
		errs = append(errs, fmt.Errorf("agent %q: not a DNS-1123 label", h.Agent))
	}
	return errors.Join(errs...)
}

// Role is the role a replica reports having.
type Role string

// The roles a replica may report.
const (
	// RolePrimary accepts writes.
	RolePrimary Role = "Primary"
	// RoleSyncStandby confirms commits synchronously.
	RoleSyncStandby Role = "SyncStandby"
	// RoleAsyncReplica follows the primary asynchronously.
	RoleAsyncReplica Role = "AsyncReplica"
	// RoleFenced accepts no writes and follows nobody (for example an old
	// primary that fenced itself).
	RoleFenced Role = "Fenced"
)

// Report is the value of a replica's KindReport key: what the agent last
// observed of the replica. Agents rewrite it every report interval; it
// disappears with the agent's session.
type Report struct {
	// Role the replica has now.
	Role Role `json:"role"`
	// Position is the replica's replication position (for PostgreSQL the
	// WAL LSN: written on a primary, replayed on a standby).
	Position uint64 `json:"position"`
	// Timeline is the history the position belongs to (a PostgreSQL
	// timeline); positions compare only within one timeline.
	Timeline uint64 `json:"timeline"`
	// Time is when the agent observed the replica, by the agent's clock.
	Time time.Time `json:"time"`
	// Epoch is the fencing epoch of the primary the replica follows, or
	// is: the epoch of the last command the agent carried out for the
	// replica (Init, Seed, Promote, Follow, Rewind), or the epoch of a
	// Demote or Fence it obeyed; 0 before any. It is never the epoch of a
	// primary the replica does not follow yet: the hub judges a replica's
	// log by it.
	Epoch int64 `json:"epoch"`
	// SyncAcks are, in a primary's report, the positions up to which its
	// synchronous standbys acknowledged commits; a standby missing from
	// the list is not synchronous now. Empty in other reports.
	SyncAcks []SyncAck `json:"syncAcks,omitempty"`
	// Lost is what the replica's log held beyond the current history when
	// its agent last repaired it (a returning old primary rewound or
	// copied afresh): the writes a failover lost, measured. Agents keep
	// reporting it until they measure again; nil when never measured.
	Lost *LostLog `json:"lost,omitempty"`
	// Agent is the reporting agent; Agent.Report fills it in.
	Agent string `json:"agent"`
	// Cluster is the member cluster the replica runs in; Agent.Report
	// fills it in.
	Cluster string `json:"cluster"`
}

// SyncAck is a synchronous standby's acknowledged position, as its
// primary reports it.
type SyncAck struct {
	// Replica is the standby's ordinal.
	Replica int `json:"replica"`
	// Position is the position up to which the standby acknowledged
	// commits.
	Position uint64 `json:"position"`
}

// LostLog is a diverged replica's log beyond the point where the history
// of the primary it was told to follow forked from it, as its agent
// measured it before repairing the replica.
type LostLog struct {
	// Epoch is the epoch of the command the agent was carrying out: the
	// failover that lost the log committed this epoch or an earlier one.
	Epoch int64 `json:"epoch"`
	// Timeline is the replica's history at the fork (a PostgreSQL
	// timeline).
	Timeline uint64 `json:"timeline"`
	// Fork is the position where the primary's history left the replica's.
	Fork uint64 `json:"fork"`
	// Bytes is how much log the replica held past Fork.
	Bytes uint64 `json:"bytes"`
	// Transactions is how many transactions that log committed.
	Transactions uint64 `json:"transactions"`
	// MeasuredAt is when the agent measured, by its clock.
	MeasuredAt time.Time `json:"measuredAt"`
}

// Validate reports every problem of the record.
func (l LostLog) Validate() error {
	var errs []error
	if err := validateEpoch(l.Epoch); err != nil {
		errs = append(errs, err)
	}
	if l.MeasuredAt.IsZero() {
		errs = append(errs, errors.New("measuredAt: must be set"))
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the record.
func (r Report) Validate() error {
	var errs []error
	switch r.Role {
	case RolePrimary, RoleSyncStandby, RoleAsyncReplica, RoleFenced:
	default:
		errs = append(errs, fmt.Errorf("role %q: not Primary, SyncStandby, AsyncReplica or Fenced", r.Role))
	}
	if r.Time.IsZero() {
		errs = append(errs, errors.New("time: must be set"))
	}
	if r.Epoch < 0 {
		errs = append(errs, fmt.Errorf("epoch %d: must not be negative", r.Epoch))
	}
	if !dnsserver.IsLabel(r.Agent) {
		errs = append(errs, fmt.Errorf("agent %q: not a DNS-1123 label", r.Agent))
	}
	if !dnsserver.IsLabel(r.Cluster) {
		errs = append(errs, fmt.Errorf("cluster %q: not a DNS-1123 label", r.Cluster))
	}
	if len(r.SyncAcks) > 0 && r.Role != RolePrimary {
		errs = append(errs, fmt.Errorf("syncAcks in a %s report: only a primary lists them", r.Role))
	}
	if r.Lost != nil {
		if err := r.Lost.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("lost: %w", err))
		}
	}
	for i, a := range r.SyncAcks {
		if err := validateReplica(a.Replica); err != nil {
			errs = append(errs, fmt.Errorf("syncAcks[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// AgentInfo is the value of an agent's KindAgent key.
type AgentInfo struct {
	// Cluster is the member cluster the agent serves.
	Cluster string `json:"cluster"`
	// Started is when the agent's session began, by the agent's clock.
	Started time.Time `json:"started"`
}

// Validate reports every problem of the record.
func (a AgentInfo) Validate() error {
	var errs []error
	if !dnsserver.IsLabel(a.Cluster) {
		errs = append(errs, fmt.Errorf("cluster %q: not a DNS-1123 label", a.Cluster))
	}
	if a.Started.IsZero() {
		errs = append(errs, errors.New("started: must be set"))
	}
	return errors.Join(errs...)
}

// MaxStateBytes bounds the failover state blob, well inside etcd's default
// request limit of 1.5 MiB.
const MaxStateBytes = 512 << 10

// maxRecordBytes bounds a stored JSON record; anything larger is not one.
const maxRecordBytes = 64 << 10

// formatEpoch returns the stored form of an epoch: canonical decimal, so
// that a value compare in a transaction is exact.
func formatEpoch(e int64) string { return strconv.FormatInt(e, 10) }

// parseEpoch accepts the stored form of an epoch only.
func parseEpoch(b []byte) (int64, error) {
	e, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || formatEpoch(e) != string(b) || e < 1 {
		return 0, fmt.Errorf("epoch %q: not a canonical positive decimal", b)
	}
	return e, nil
}

func validateReplica(n int) error {
	if n < 0 || n > MaxReplica {
		return fmt.Errorf("replica %d out of [0, %d]", n, MaxReplica)
	}
	return nil
}

func validateEpoch(e int64) error {
	if e < 1 {
		return fmt.Errorf("epoch %d: must be at least 1", e)
	}
	return nil
}

// validator is a record that can check itself.
type validator interface{ Validate() error }

// encode returns the stored form of a valid record: deterministic JSON, so
// equal records give equal bytes and a value compare works.
func encode(v validator) (string, error) {
	if err := v.Validate(); err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// decode parses and validates a stored record into v (a pointer).
// Unknown fields are ignored so that older readers accept newer writers.
func decode(b []byte, v validator) error {
	if len(b) > maxRecordBytes {
		return fmt.Errorf("decode %T: %d bytes exceeds %d", v, len(b), maxRecordBytes)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	if d.More() {
		return fmt.Errorf("decode %T: trailing data", v)
	}
	if err := v.Validate(); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// DecodeReport parses and validates a stored Report.
func DecodeReport(b []byte) (Report, error) {
	var r Report
	return r, decode(b, &r)
}

// DecodeHolder parses and validates a stored Holder.
func DecodeHolder(b []byte) (Holder, error) {
	var h Holder
	return h, decode(b, &h)
}

// DecodePrimary parses and validates a stored Primary.
func DecodePrimary(b []byte) (Primary, error) {
	var p Primary
	return p, decode(b, &p)
}

// DecodeAgentInfo parses and validates a stored AgentInfo.
func DecodeAgentInfo(b []byte) (AgentInfo, error) {
	var a AgentInfo
	return a, decode(b, &a)
}
