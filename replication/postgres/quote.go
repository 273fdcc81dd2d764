package postgres

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// kv is one keyword and value of a libpq connection string.
type kv struct{ key, value string }

// conninfo renders libpq keyword/value pairs, in order, quoting values as
// libpq's parser expects; pairs with an empty value are left out.
func conninfo(pairs ...kv) string {
	var b strings.Builder
	for _, p := range pairs {
		if p.value == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(quoteConninfo(p.value))
	}
	return b.String()
}

// quoteConninfo quotes a connection string value: in single quotes, with
// backslash before quotes and backslashes, when it is not a plain word.
func quoteConninfo(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r\v\f'\\") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}

// quoteLiteral quotes a SQL string literal with standard_conforming_strings
// on (the default since PostgreSQL 9.1): quotes doubled, backslashes kept.
func quoteLiteral(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// quoteIdent quotes a SQL identifier.
func quoteIdent(v string) string { return pgx.Identifier{v}.Sanitize() }

// quoteShell quotes one word for a POSIX shell, as pg_ctl passes its -o
// options through one.
func quoteShell(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
