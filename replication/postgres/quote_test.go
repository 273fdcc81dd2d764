package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestConninfo(t *testing.T) {
	tests := []struct {
		name  string
		pairs []kv
		want  string
	}{
		{name: "plain words", pairs: []kv{{"host", "127.0.0.1"}, {"port", "5432"}}, want: "host=127.0.0.1 port=5432"},
		{name: "empty values left out", pairs: []kv{{"host", "h"}, {"password", ""}}, want: "host=h"},
		{name: "quoted", pairs: []kv{{"password", `a b'c\d`}}, want: `password='a b\'c\\d'`},
	}
	for _, tt := range tests {
		if got := conninfo(tt.pairs...); got != tt.want {
			t.Errorf("%s: conninfo = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestQuoting(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{name: "literal", got: quoteLiteral(`it's \`), want: `'it''s \'`},
		{name: "identifier", got: quoteIdent(`a"b`), want: `"a""b"`},
		{name: "shell", got: quoteShell(`/a b'c`), want: `'/a b'\''c'`},
		{name: "configuration file", got: quoteConf(`it's \`), want: `'it''s \\'`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// FuzzConninfo checks the quoting of connection strings against pgx's
// parser of libpq connection strings.
func FuzzConninfo(f *testing.F) {
	f.Add("db-1", `se cr'et\x`)
	f.Add("", " ")
	f.Fuzz(func(t *testing.T, app, password string) {
		if strings.ContainsRune(app+password, 0) {
			return // libpq strings cannot carry NUL
		}
		s := conninfo(kv{"host", "/run/postgresql"}, kv{"port", "5432"}, kv{"user", "replicator"},
			kv{"application_name", app}, kv{"password", password})
		cfg, err := pgconn.ParseConfig(s)
		if err != nil {
			t.Fatalf("ParseConfig(%q): %v", s, err)
		}
		if cfg.RuntimeParams["application_name"] != app || cfg.Password != password || cfg.User != "replicator" {
			t.Fatalf("ParseConfig(%q) = application_name %q, password %q, user %q",
				s, cfg.RuntimeParams["application_name"], cfg.Password, cfg.User)
		}
	})
}
