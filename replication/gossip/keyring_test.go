package gossip

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testKey returns a deterministic AES-256 key.
func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func b64(b byte) string { return base64.StdEncoding.EncodeToString(testKey(b)) }

func TestParseKeyring(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    [][]byte
		wantErr []string
	}{
		{name: "one key", in: b64(1) + "\n", want: [][]byte{testKey(1)}},
		{name: "no final newline", in: b64(1), want: [][]byte{testKey(1)}},
		{
			name: "comments blanks spaces crlf",
			in:   "# primary\n\n  " + b64(2) + "  \r\n# old\n\t" + b64(1) + "\n",
			want: [][]byte{testKey(2), testKey(1)},
		},
		{name: "empty", in: "", wantErr: []string{"no keys"}},
		{name: "only comments", in: "# nothing\n\n", wantErr: []string{"no keys"}},
		{
			name:    "every bad line",
			in:      b64(1) + "\nnot base64!\n" + base64.StdEncoding.EncodeToString([]byte("short")) + "\n" + b64(1) + "\n",
			wantErr: []string{"line 2: not standard base64", "line 3: key of 5 bytes", "line 4: duplicate key"},
		},
		{name: "line too long", in: strings.Repeat("A", 5000), wantErr: []string{"read keyring"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKeyring(strings.NewReader(tt.in))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ParseKeyring = %d keys, want errors %q", len(got), tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %v\nmissing %q", err, w)
					}
				}
				if strings.Contains(err.Error(), b64(1)) {
					t.Errorf("error %v reveals a key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, bytes.Equal) {
				t.Fatalf("ParseKeyring = %x, want %x", got, tt.want)
			}
		})
	}
}

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyring")
	want := [][]byte{testKey(7), testKey(8)}
	if err := os.WriteFile(path, FormatKeyring(want), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("LoadKeyring = %x, want %x", got, want)
	}
	if _, err := LoadKeyring(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("LoadKeyring of a missing file: no error")
	}
}
