package postgres

import (
	"maps"
	"testing"
)

func TestSyncSpec(t *testing.T) {
	tests := []struct {
		name     string
		spec     SyncSpec
		settings map[string]string
		ok       bool
	}{
		{name: "asynchronous", spec: SyncSpec{Standbys: []string{"db-1"}}, ok: true,
			settings: map[string]string{"synchronous_standby_names": "", "synchronous_commit": "on"}},
		{name: "quorum of two, names sorted", ok: true,
			spec:     SyncSpec{Standbys: []string{"db-2", "db-1", "db-3"}, Synchronous: []string{"db-2", "db-1"}, Quorum: 1, Commit: "remote_apply"},
			settings: map[string]string{"synchronous_standby_names": `ANY 1 ("db-1","db-2")`, "synchronous_commit": "remote_apply"}},
		{name: "commit level ignored when asynchronous", ok: true,
			spec:     SyncSpec{Standbys: []string{"db-1"}, Synchronous: []string{"db-1"}, Commit: "remote_write"},
			settings: map[string]string{"synchronous_standby_names": "", "synchronous_commit": "on"}},
		{name: "quorum above candidates", spec: SyncSpec{Standbys: []string{"db-1"}, Synchronous: []string{"db-1"}, Quorum: 2}},
		{name: "candidate without slot", spec: SyncSpec{Synchronous: []string{"db-1"}, Quorum: 1}},
		{name: "not a DNS label", spec: SyncSpec{Standbys: []string{`db"1`}}},
		{name: "local commit", spec: SyncSpec{Standbys: []string{"db-1"}, Synchronous: []string{"db-1"}, Quorum: 1, Commit: "local"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !maps.Equal(tt.spec.syncSettings(), tt.settings) {
				t.Errorf("syncSettings() = %v, want %v", tt.spec.syncSettings(), tt.settings)
			}
		})
	}
}

func TestSlotName(t *testing.T) {
	for name, want := range map[string]string{"db-3": "db_3", "pg-main-10": "pg_main_10", "db0": "db0"} {
		if got := SlotName(name); got != want || !slotName.MatchString(got) {
			t.Errorf("SlotName(%q) = %q, want %q, a valid slot name", name, got, want)
		}
	}
}
