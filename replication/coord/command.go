package coord

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedstate/fedstate/dnsserver"
)

// CommandKind says what the hub leader tells a replica's agent to do.
type CommandKind string

// The commands; the package documentation gives each one's semantics.
const (
	// CommandInit: create the service's first database on this replica and
	// open it as the primary of Epoch (epoch 1).
	CommandInit CommandKind = "Init"
	// CommandSeed: this replica holds no data yet: copy it from Primary
	// (a base backup) and follow Primary.
	CommandSeed CommandKind = "Seed"
	// CommandPromote: promote this replica to the primary of Epoch.
	CommandPromote CommandKind = "Promote"
	// CommandFollow: replicate from Primary, the primary of Epoch.
	CommandFollow CommandKind = "Follow"
	// CommandRewind: discard the log that is not in Primary's history
	// (rewind, or a fresh copy), then follow Primary.
	CommandRewind CommandKind = "Rewind"
	// CommandFence: keep this replica read-only; it is not the primary.
	CommandFence CommandKind = "Fence"
	// CommandDemote: this replica, primary in Epoch, stops writes,
	// releases the primary lease and reports its final position.
	CommandDemote CommandKind = "Demote"
	// CommandWaitReplay: keep following Primary and report as soon as the
	// replica replayed up to Position.
	CommandWaitReplay CommandKind = "WaitReplay"
)

// valid says whether k is one of the commands.
func (k CommandKind) valid() bool {
	switch k {
	case CommandInit, CommandSeed, CommandPromote, CommandFollow, CommandRewind, CommandFence, CommandDemote, CommandWaitReplay:
		return true
	}
	return false
}

// Command is the value of a replica's KindCommand key: the latest thing
// the hub leader told the replica's agent to do. Commands are
// level-triggered: the key holds only the latest one, which replaces any
// earlier, and the agent brings the replica to what it says whenever it
// reads it (after a restart or a partition too). Writing the same command
// again changes nothing.
type Command struct {
	// Kind of command.
	Kind CommandKind `json:"kind"`
	// Epoch is the fencing epoch the command is valid for: the stored
	// epoch when the hub wrote it. An agent carries a command out only
	// while the stored epoch (KindEpoch) equals Epoch; an older command
	// waits for the hub's next one.
	Epoch int64 `json:"epoch"`
	// Primary is the ordinal of the primary of Epoch: the replica to copy
	// from or follow (Seed, Follow, Rewind, WaitReplay) and the replica
	// itself for Init, Promote and Demote.
	Primary int `json:"primary"`
	// Position is, for WaitReplay, the position to replay up to (the
	// demoted primary's final position); zero otherwise.
	Position uint64 `json:"position,omitempty"`
	// Cluster is the member cluster the hub placed the replica in; an
	// agent carries out only the commands of its own cluster.
	Cluster string `json:"cluster"`
	// Issued is when the hub wrote the command, by the hub's clock; for
	// people, not for ordering (the key's revision orders commands).
	Issued time.Time `json:"issued"`
}

// Validate reports every problem of the record.
func (c Command) Validate() error {
	var errs []error
	if !c.Kind.valid() {
		errs = append(errs, fmt.Errorf("kind %q: not Init, Seed, Promote, Follow, Rewind, Fence, Demote or WaitReplay", c.Kind))
	}
	errs = append(errs, validateEpoch(c.Epoch), validateReplica(c.Primary))
	if c.Kind != CommandWaitReplay && c.Position != 0 {
		errs = append(errs, fmt.Errorf("position %d: only WaitReplay carries one", c.Position))
	}
	if c.Kind == CommandInit && c.Epoch != 1 {
		errs = append(errs, fmt.Errorf("init in epoch %d: only the first epoch starts a database", c.Epoch))
	}
	if !dnsserver.IsLabel(c.Cluster) {
		errs = append(errs, fmt.Errorf("cluster %q: not a DNS-1123 label", c.Cluster))
	}
	if c.Issued.IsZero() {
		errs = append(errs, errors.New("issued: must be set"))
	}
	return errors.Join(errs...)
}

// Same reports whether c and o tell the agent the same thing: they differ
// at most in Issued.
func (c Command) Same(o Command) bool {
	c.Issued, o.Issued = time.Time{}, time.Time{}
	return c == o
}

// EncodeCommand returns the stored form of a valid Command: deterministic
// JSON.
func EncodeCommand(c Command) ([]byte, error) {
	s, err := encode(c)
	return []byte(s), err
}

// DecodeCommand parses and validates a stored Command. Unknown fields are
// ignored so that older agents read commands of newer hubs.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	return c, decode(b, &c)
}
