package gossip

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxKeyringLine bounds one line of a keyring file; a base64 AES-256 key
// is 44 characters.
const maxKeyringLine = 4096

// LoadKeyring reads a keyring file (the gossip Secret mounted as a file):
// see ParseKeyring for the format.
func LoadKeyring(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gossip: load keyring: %w", err)
	}
	defer f.Close()
	keys, err := ParseKeyring(f)
	if err != nil {
		return nil, fmt.Errorf("gossip: load keyring %s: %w", path, err)
	}
	return keys, nil
}

// ParseKeyring parses a keyring: one standard base64 key of KeySize bytes
// per line, the primary key first. Blank lines and lines starting with
// '#' are skipped; surrounding spaces are ignored. At least one key is
// required, and no key may appear twice. Errors name the line, never the
// key.
//
//	# primary since 2025-06-01
//	q3B0Jx6YVnG8...=
//	# previous key, remove after the rotation
//	Zf1aQ9w2LmT4...=
func ParseKeyring(r io.Reader) ([][]byte, error) {
	var keys [][]byte
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 128), maxKeyringLine)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("line %d: not standard base64", line))
		case len(key) != KeySize:
			errs = append(errs, fmt.Errorf("line %d: key of %d bytes, want %d (AES-256)", line, len(key), KeySize))
		case containsKey(keys, key):
			errs = append(errs, fmt.Errorf("line %d: duplicate key", line))
		default:
			keys = append(keys, key)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keyring: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	return keys, nil
}

// FormatKeyring writes keys in ParseKeyring's format, one per line.
func FormatKeyring(keys [][]byte) []byte {
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func containsKey(keys [][]byte, key []byte) bool {
	for _, k := range keys {
		if bytes.Equal(k, key) {
			return true
		}
	}
	return false
}
