package dnsserver

// SerialOf returns the SOA serial of a snapshot at etcd revision rev: its
// low 32 bits. Revisions only grow, so serials advance in RFC 1982 sequence
// space as long as two compared serials are less than 2^31 revisions apart.
func SerialOf(rev int64) uint32 { return uint32(rev) }

// SerialLess reports whether serial a precedes serial b in RFC 1982
// sequence-space arithmetic (SERIAL_BITS = 32). Serials exactly 2^31 apart
// are incomparable: neither precedes the other.
func SerialLess(a, b uint32) bool {
	d := b - a
	return d != 0 && d < 1<<31
}
