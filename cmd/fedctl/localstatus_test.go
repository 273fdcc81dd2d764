package main

import (
	"path/filepath"
	"testing"
	"time"
)

// localFixture is a local federation with one DNS server that does not
// answer and a member whose agent is not seen.
func localFixture() *localStatus {
	return &localStatus{
		Dir:     "/var/tmp/fedstate-local",
		Started: fixtureNow.Add(-90 * time.Minute),
		Clusters: []localCluster{
			{Name: "hub", Server: "https://127.0.0.1:40001", Ready: true},
			{Name: "eu-1", Region: "eu-west", Server: "https://127.0.0.1:40002", Ready: true},
			{Name: "us-1", Region: "us-east", Server: "https://127.0.0.1:40003", Ready: true},
		},
		Etcd: []localProbe{{URL: "http://127.0.0.1:40010", Healthy: true}},
		DNS: []localDNS{
			{Region: "eu-west", Address: "127.0.0.1:40020", Serial: 1042},
			{Region: "us-east", Address: "127.0.0.1:40021", Error: "read udp 127.0.0.1:51000->127.0.0.1:40021: i/o timeout"},
		},
		Members: []localMember{
			{Name: "eu-1", Region: "eu-west", Ready: true, AgentAlive: true},
			{Name: "us-1", Region: "us-east", Ready: true},
		},
		Services:  []localService{{Namespace: "demo", Name: "pg", Desired: 5, Ready: 4, Primary: "pg-0 in eu-1", Epoch: 3}},
		Processes: []localProcess{{Name: "hub/fedstate-hub", PID: 101, RSSMiB: 81}, {Name: "eu-1/fedstate-agent", PID: 102, RSSMiB: 76}},
	}
}

// TestRenderLocalStatus compares fedctl local status's three formats with
// testdata/local-status.<format>.golden; -update rewrites them.
func TestRenderLocalStatus(t *testing.T) {
	st := localFixture()
	if st.Healthy() {
		t.Error("a federation with a silent DNS server counts as healthy")
	}
	for _, format := range []string{formatTable, formatJSON, formatYAML} {
		t.Run(format, func(t *testing.T) {
			got, err := renderLocalStatus(format, st, fixtureNow)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "local-status."+format+".golden"), got)
		})
	}
	if _, err := renderLocalStatus("wide", st, fixtureNow); err == nil {
		t.Error("-o wide accepted")
	}
	st.DNS[1].Error, st.DNS[1].Serial = "", 1042
	if !st.Healthy() {
		t.Error("a federation whose parts all answer counts as unhealthy")
	}
}
