package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzReadDeadline checks the fencing deadline file both ways: every
// deadline the agent writes reads back to the nanosecond, and any content
// of the file either reads as the deadline its canonical form names or is
// an error (which the watchdog takes for a passed deadline), never a
// panic.
func FuzzReadDeadline(f *testing.F) {
	f.Add(int64(1767225600123456789), []byte("1767225600123456789\n"))
	f.Add(int64(0), []byte(" -5 \r\n"))
	f.Add(int64(-1), []byte("9223372036854775808"))
	f.Add(int64(1<<63-1), []byte(""))
	f.Add(int64(42), []byte("1e9"))
	f.Add(int64(42), []byte("+0x10"))
	f.Fuzz(func(t *testing.T, nanos int64, content []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "fence-deadline")
		want := time.Unix(0, nanos)
		if err := WriteDeadline(path, want); err != nil {
			t.Fatal(err)
		}
		if got, err := readDeadline(path); err != nil || !got.Equal(want) {
			t.Fatalf("wrote %v, read %v, %v", want, got, err)
		}
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readDeadline(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				t.Fatalf("content %q read as no deadline: the watchdog would leave", content)
			}
			return
		}
		n, perr := strconv.ParseInt(strings.TrimSpace(string(content)), 10, 64)
		if perr != nil || got.UnixNano() != n {
			t.Fatalf("content %q read as %v (%d ns)", content, got, got.UnixNano())
		}
	})
}

func TestReadDeadlineMissing(t *testing.T) {
	if _, err := readDeadline(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want os.ErrNotExist (the watchdog leaves)", err)
	}
}
