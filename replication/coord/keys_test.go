package coord

import (
	"errors"
	"testing"
)

func TestKeyLayout(t *testing.T) {
	db := Service{Namespace: "prod", Name: "db"}
	tests := []struct {
		name    string
		key     Key
		etcdKey string
	}{
		{name: "epoch", key: ServiceKey(db, KindEpoch), etcdKey: "/p/services/prod/db/epoch"},
		{name: "primary", key: ServiceKey(db, KindPrimary), etcdKey: "/p/services/prod/db/primary"},
		{name: "failover state", key: ServiceKey(db, KindFailoverState), etcdKey: "/p/services/prod/db/failover"},
		{name: "primary lease", key: ServiceKey(db, KindLease), etcdKey: "/p/services/prod/db/lease"},
		{name: "report", key: ReportKey(db, 3), etcdKey: "/p/services/prod/db/reports/3"},
		{name: "report of replica 0", key: ReportKey(db, 0), etcdKey: "/p/services/prod/db/reports/0"},
		{name: "report of the last ordinal", key: ReportKey(db, MaxReplica), etcdKey: "/p/services/prod/db/reports/2147483647"},
		{name: "command", key: CommandKey(db, 3), etcdKey: "/p/services/prod/db/commands/3"},
		{name: "command of the last ordinal", key: CommandKey(db, MaxReplica), etcdKey: "/p/services/prod/db/commands/2147483647"},
		{name: "agent", key: AgentKey("eu-west-1"), etcdKey: "/p/agents/eu-west-1"},
		{name: "service named like a kind", key: Key{Namespace: "agents", Service: "epoch", Kind: KindLease},
			etcdKey: "/p/services/agents/epoch/lease"},
		{name: "agent named services", key: AgentKey("services"), etcdKey: "/p/agents/services"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.key.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := tc.key.EtcdKey("/p/"); got != tc.etcdKey {
				t.Errorf("EtcdKey = %q, want %q", got, tc.etcdKey)
			}
			if got, err := ParseKey("/p/", tc.etcdKey); err != nil || got != tc.key {
				t.Errorf("ParseKey = %+v, %v; want %+v", got, err, tc.key)
			}
		})
	}
}

func TestKeyPrefixes(t *testing.T) {
	db := Service{Namespace: "prod", Name: "db"}
	if got, want := ServicePrefix("/p/", db), "/p/services/prod/db/"; got != want {
		t.Errorf("ServicePrefix = %q, want %q", got, want)
	}
	if got, want := AgentsPrefix("/p/"), "/p/agents/"; got != want {
		t.Errorf("AgentsPrefix = %q, want %q", got, want)
	}
	if got, want := ElectionPrefix("/p/"), "/p/leader/"; got != want {
		t.Errorf("ElectionPrefix = %q, want %q", got, want)
	}
	// A service's prefix must not cover a service whose name extends it.
	other := ServiceKey(Service{Namespace: "prod", Name: "db2"}, KindEpoch).EtcdKey("/p/")
	if len(other) >= len(ServicePrefix("/p/", db)) && other[:len(ServicePrefix("/p/", db))] == ServicePrefix("/p/", db) {
		t.Errorf("%q is under the prefix of %s", other, db)
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, k := range []string{
		"/q/services/prod/db/epoch",              // other prefix
		"/p/services/prod/db/other",              // unknown kind
		"/p/services/prod/db/reports",            // report without replica
		"/p/services/prod/db/reports/03",         // leading zero
		"/p/services/prod/db/reports/-1",         // sign
		"/p/services/prod/db/reports/+1",         // sign
		"/p/services/prod/db/reports/2147483648", // beyond MaxReplica
		"/p/services/prod/db/commands",           // command without replica
		"/p/services/prod/db/commands/01",        // leading zero
		"/p/services/prod/db/commands/3/x",       // extra segment
		"/p/services/prod/db/epoch/x",            // extra segment
		"/p/services/prod/db/lease/3",            // replica on a service kind
		"/p/services/Prod/db/epoch",              // not a label
		"/p/services/prod//epoch",                // empty service
		"/p/services/prod/db-/primary",           // bad label
		"/p/agents/",                             // empty agent
		"/p/agents/a/b",                          // extra segment
		"/p/agents/A",                            // not a label
		"/p/leader/694d7c8a2b1e",                 // election key: outside the layout
		"/p/services/prod/db/failover/",          // trailing slash
		"/p/",                                    // the prefix itself
	} {
		if got, err := ParseKey("/p/", k); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseKey(%q) = %+v, %v; want ErrBadKey", k, got, err)
		}
	}
}

func TestKeyValidate(t *testing.T) {
	db := Service{Namespace: "prod", Name: "db"}
	for name, k := range map[string]Key{
		"zero":                    {},
		"unknown kind":            {Namespace: "prod", Service: "db", Kind: 99},
		"replica on epoch":        {Namespace: "prod", Service: "db", Kind: KindEpoch, Replica: 1},
		"agent on lease":          {Namespace: "prod", Service: "db", Kind: KindLease, Agent: "a"},
		"negative replica":        ReportKey(db, -1),
		"negative command":        CommandKey(db, -1),
		"service fields on agent": {Namespace: "prod", Kind: KindAgent, Agent: "a"},
		"agent too long":          AgentKey("a123456789012345678901234567890123456789012345678901234567890123"),
	} {
		if err := k.Validate(); !errors.Is(err, ErrBadKey) {
			t.Errorf("%s: Validate(%+v) = %v, want ErrBadKey", name, k, err)
		}
	}
}
