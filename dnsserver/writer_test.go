package dnsserver

import (
	"strings"
	"testing"
)

func TestWriterSetPrimaryGuards(t *testing.T) {
	w, err := NewWriter(DefaultWriterConfig())
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.SetPrimary("prod", "db", nil, Primary{Ordinal: 0, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.If) != 1 || len(first.Then) != 1 {
		t.Fatalf("first promotion: %d guards, %d ops; want 1, 1", len(first.If), len(first.Then))
	}
	if got := string(first.Then[0].KeyBytes()); got != "/fedstate/dns/prod/db/primary" {
		t.Errorf("put key = %q", got)
	}
	if got := string(first.Then[0].ValueBytes()); got != `{"ordinal":0,"epoch":1}` {
		t.Errorf("put value = %q", got)
	}
	if _, err := w.SetPrimary("prod", "db", &Primary{Ordinal: 0, Epoch: 4}, Primary{Ordinal: 1, Epoch: 4}); err == nil {
		t.Error("SetPrimary accepted an epoch that does not grow")
	}
	rep, err := w.PutReplica("prod", "db", 1, Replica{Cluster: "us-1", Region: "us", Role: RoleAsyncReplica})
	if err != nil {
		t.Fatal(err)
	}
	both := first.Add(rep)
	if len(both.If) != 1 || len(both.Then) != 2 || len(first.Then) != 1 {
		t.Errorf("Add: %d guards, %d ops (first now %d ops)", len(both.If), len(both.Then), len(first.Then))
	}
}

func TestWriterConfigValidate(t *testing.T) {
	err := WriterConfig{Prefix: "fedstate", CommitTimeout: 0}.Validate()
	want := "prefix \"fedstate\": must start and end with / and not be /\ncommitTimeout 0s: must be positive"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate = %v, want\n%s", err, want)
	}
	if _, err := NewWriter(WriterConfig{}); err == nil || !strings.Contains(err.Error(), "writer config") {
		t.Fatalf("NewWriter(zero) = %v", err)
	}
}
