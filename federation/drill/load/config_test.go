package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func validConfig() Config {
	cfg := DefaultConfig()
	cfg.Namespace, cfg.Service = "demo", "pg"
	return cfg
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		wants []string
	}{
		{name: "defaults with a service", edit: func(*Config) {}},
		{name: "every field bad at once", edit: func(c *Config) {
			*c = Config{DNSServer: "nohost", Zone: "fedstate.local", Namespace: "Demo", Table: "1t", Rate: -1, ReadRate: -2, GapThreshold: -1}
		}, wants: []string{"dnsServer", "zone", "namespace", "service", "port", "rate", "readRate", "table", "user", "database", "opTimeout", "resolveInterval", "gapThreshold -1ns: must not be negative"}},
		{name: "low rate, default threshold", edit: func(c *Config) { c.Rate = 0.5 }},
		{name: "threshold within the write interval", edit: func(c *Config) { c.Rate, c.GapThreshold = 2, 400*time.Millisecond },
			wants: []string{"gapThreshold 400ms: must be longer than the write interval 500ms"}},
		{name: "quoted table names are refused", edit: func(c *Config) { c.Table = `load"; DROP` }, wants: []string{"table"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", cfg)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestNames(t *testing.T) {
	cfg := validConfig()
	if got, want := cfg.PrimaryName(), "primary.pg.demo.svc.fedstate.local."; got != want {
		t.Errorf("primary name %q, want %q", got, want)
	}
	if got, want := cfg.ServiceName(), "pg.demo.svc.fedstate.local."; got != want {
		t.Errorf("service name %q, want %q", got, want)
	}
}

func TestClassify(t *testing.T) {
	readOnly := &pgconn.PgError{Code: "25006", Message: "cannot execute INSERT in a read-only transaction"}
	terminated := &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	for _, tc := range []struct {
		name  string
		phase phase
		err   error
		want  Outcome
	}{
		{name: "success", phase: phaseStatement, err: nil, want: OK},
		{name: "no answer", phase: phaseResolve, err: errors.New("i/o timeout"), want: ErrDNS},
		{name: "dns deadline", phase: phaseResolve, err: context.DeadlineExceeded, want: ErrDNS},
		{name: "refused", phase: phaseConnect, err: errors.New("connection refused"), want: ErrConnect},
		{name: "connect deadline", phase: phaseConnect, err: fmt.Errorf("connect: %w", context.DeadlineExceeded), want: ErrConnect},
		{name: "read-only insert", phase: phaseStatement, err: fmt.Errorf("insert row 3: %w", readOnly), want: ErrReadOnly},
		{name: "read-only at connect", phase: phaseConnect, err: readOnly, want: ErrReadOnly},
		{name: "statement deadline", phase: phaseStatement, err: fmt.Errorf("insert: %w", context.DeadlineExceeded), want: ErrTimeout},
		{name: "session cut", phase: phaseStatement, err: terminated, want: ErrOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.phase, tc.err); got != tc.want {
				t.Errorf("classify = %s, want %s", got, tc.want)
			}
		})
	}
}
