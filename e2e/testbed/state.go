package testbed

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// stateFile is the name of the state file inside Config.StateDir.
const stateFile = "state.json"

// State is what a bed records about itself: enough for another process to
// find, stop and restart exactly what was started.
type State struct {
	// Dir is the state folder.
	Dir string `json:"dir"`
	// Binaries are the programs the bed runs.
	Binaries Binaries `json:"binaries"`
	// Detached says the processes outlive the process that started them.
	Detached bool `json:"detached"`
	// EtcdURL is the client URL of the shared etcd.
	EtcdURL string `json:"etcdURL"`
	// Etcd is the etcd process.
	Etcd Process `json:"etcd"`
	// Clusters are the hub, first, then the members.
	Clusters []Cluster `json:"clusters"`
	// PodNet is the block of pod networks the bed claimed (podnet.go).
	PodNet int `json:"podNet"`
}

// Cluster is one cluster of the bed.
type Cluster struct {
	// Name of the cluster; the hub is HubName.
	Name string `json:"name"`
	// Hub is true for the hub cluster.
	Hub bool `json:"hub"`
	// Region and Zone of a member's nodes.
	Region string `json:"region,omitempty"`
	Zone   string `json:"zone,omitempty"`
	// Server is the API server URL.
	Server string `json:"server"`
	// Kubeconfig is the path of the cluster's admin kubeconfig.
	Kubeconfig string `json:"kubeconfig"`
	// PodCIDR is the range kwok gives pod IPs from (members only), inside
	// 127.0.0.0/8.
	PodCIDR string `json:"podCIDR,omitempty"`
	// Processes are the API server first, then the controllers.
	Processes []Process `json:"processes"`
	// Extra are the programs added to the cluster with AddProcess, started
	// once its API server and nodes are ready.
	Extra []Process `json:"extra,omitempty"`
}

// save writes the state file atomically.
func (s *State) save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return os.Rename(tmp, filepath.Join(s.Dir, stateFile))
}

// loadState reads the state file of dir.
func loadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return s, fmt.Errorf("read test-bed state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("parse test-bed state %s: %w", filepath.Join(dir, stateFile), err)
	}
	return s, nil
}
