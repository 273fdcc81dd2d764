package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// LSN is a PostgreSQL write-ahead log position: a byte offset into the
// log, printed by the server as two hexadecimal halves ("16/B374D848").
// The zero LSN is InvalidLSN, which the server reports as NULL.
type LSN uint64

// InvalidLSN is the zero position: the server has no such position (a
// standby that has received nothing, a NULL column).
const InvalidLSN LSN = 0

// errLSNSyntax is wrapped by every ParseLSN error.
var errLSNSyntax = errors.New("postgres: invalid LSN")

// ParseLSN parses the server's text form of an LSN: 1 to 8 hexadecimal
// digits, a slash, 1 to 8 hexadecimal digits, in either case.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || !isHex8(hi) || !isHex8(lo) {
		return InvalidLSN, fmt.Errorf("%w %q: want two groups of 1-8 hexadecimal digits joined by /", errLSNSyntax, s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return InvalidLSN, fmt.Errorf("%w %q: %w", errLSNSyntax, s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return InvalidLSN, fmt.Errorf("%w %q: %w", errLSNSyntax, s, err)
	}
	return LSN(h<<32 | l), nil
}

// isHex8 reports whether s is 1 to 8 hexadecimal digits (no sign, no
// prefix), as the server's pg_lsn input function accepts.
func isHex8(s string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// String returns the server's text form: upper-case hexadecimal halves
// without leading zeros, "0/0" for InvalidLSN.
func (l LSN) String() string {
	return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF)
}

// MarshalText implements encoding.TextMarshaler with the String form, so
// statuses serialise as the server prints them.
func (l LSN) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseLSN.
func (l *LSN) UnmarshalText(b []byte) error {
	v, err := ParseLSN(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Sub returns how many bytes of log l is ahead of o; zero when it is not
// ahead.
func (l LSN) Sub(o LSN) uint64 {
	if l <= o {
		return 0
	}
	return uint64(l - o)
}

// parseNullLSN parses an LSN column read as text, where SQL NULL (nil)
// means InvalidLSN.
func parseNullLSN(s *string) (LSN, error) {
	if s == nil {
		return InvalidLSN, nil
	}
	return ParseLSN(*s)
}
