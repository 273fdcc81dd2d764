package gossip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// metaVersion is the first byte of every encoded Meta.
const metaVersion = 1

// Flag bits of the second byte of an encoded Meta.
const (
	flagHub     = 1 << 0
	flagAgent   = 1 << 1
	flagLeaving = 1 << 2
	knownFlags  = flagHub | flagAgent | flagLeaving
)

// MaxMetaSize is the largest encoded Meta memberlist carries.
const MaxMetaSize = memberlist.MetaMaxSize

// ErrMetaTooLarge is returned when a node's metadata would not fit in
// MaxMetaSize bytes.
var ErrMetaTooLarge = errors.New("gossip: node metadata larger than 512 bytes")

// Meta is what a node tells the pool about itself, carried in memberlist's
// node metadata.
//
// Encoding, version 1: the version byte; a flags byte (bit 0 hub, bit 1
// agent, bit 2 leaving); then Cluster, Region and Payload, each as a
// uvarint length followed by the bytes. Exactly one role bit is set, no
// unknown bit, no trailing byte, lengths in their shortest form: every
// Meta has one encoding, and DecodeMeta accepts only that.
type Meta struct {
	// Role is the node's role.
	Role Role
	// Cluster is an agent's member cluster.
	Cluster string
	// Region is the node's region.
	Region string
	// Payload is opaque data of the node's owner (an agent's etcd
	// session id).
	Payload []byte
	// Leaving is set by Pool.Leave just before the node leaves, so that
	// the others tell a departure from a crash.
	Leaving bool
}

// Encode returns m's encoding, or ErrMetaTooLarge.
func (m Meta) Encode() ([]byte, error) {
	var flags byte
	switch m.Role {
	case RoleHub:
		flags = flagHub
	case RoleAgent:
		flags = flagAgent
	default:
		return nil, fmt.Errorf("gossip: encode meta: unknown role %q", m.Role)
	}
	if m.Leaving {
		flags |= flagLeaving
	}
	b := make([]byte, 0, 2+3*binary.MaxVarintLen16+len(m.Cluster)+len(m.Region)+len(m.Payload))
	b = append(b, metaVersion, flags)
	b = appendField(b, []byte(m.Cluster))
	b = appendField(b, []byte(m.Region))
	b = appendField(b, m.Payload)
	if len(b) > MaxMetaSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMetaTooLarge, len(b))
	}
	return b, nil
}

func appendField(b, field []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(field)))
	return append(b, field...)
}

// DecodeMeta parses an encoded Meta. It accepts exactly the encodings
// Meta.Encode produces and never panics.
func DecodeMeta(b []byte) (Meta, error) {
	if len(b) > MaxMetaSize {
		return Meta{}, fmt.Errorf("%w: %d bytes", ErrMetaTooLarge, len(b))
	}
	if len(b) < 2 {
		return Meta{}, errors.New("gossip: decode meta: too short")
	}
	if b[0] != metaVersion {
		return Meta{}, fmt.Errorf("gossip: decode meta: unknown version %d", b[0])
	}
	var m Meta
	switch flags := b[1]; {
	case flags&^knownFlags != 0:
		return Meta{}, fmt.Errorf("gossip: decode meta: unknown flags %#x", flags)
	case flags&(flagHub|flagAgent) == flagHub:
		m.Role = RoleHub
	case flags&(flagHub|flagAgent) == flagAgent:
		m.Role = RoleAgent
	default:
		return Meta{}, fmt.Errorf("gossip: decode meta: flags %#x name no single role", flags)
	}
	m.Leaving = b[1]&flagLeaving != 0
	rest := b[2:]
	var fields [3][]byte
	for i := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return Meta{}, fmt.Errorf("gossip: decode meta: field %d: bad length", i)
		}
		if k != len(binary.AppendUvarint(nil, n)) {
			return Meta{}, fmt.Errorf("gossip: decode meta: field %d: length not in shortest form", i)
		}
		fields[i], rest = rest[k:k+int(n)], rest[k+int(n):]
	}
	if len(rest) != 0 {
		return Meta{}, fmt.Errorf("gossip: decode meta: %d trailing bytes", len(rest))
	}
	m.Cluster, m.Region = string(fields[0]), string(fields[1])
	if len(fields[2]) > 0 {
		m.Payload = bytes.Clone(fields[2])
	}
	return m, nil
}
