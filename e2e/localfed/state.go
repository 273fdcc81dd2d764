package localfed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/hub"
)

// stateFile is the name of a detached federation's state file in
// Options.Dir.
const stateFile = "federation.json"

// State is what a detached federation records about itself: enough for
// another process to find its parts and stop them.
type State struct {
	// Dir is the federation's folder.
	Dir string `json:"dir"`
	// Members are the member clusters, in order.
	Members []testbed.MemberSpec `json:"members"`
	// EtcdURLs are the federation etcd's client URLs.
	EtcdURLs []string `json:"etcdURLs"`
	// DNS are the DNS servers' addresses, one per member, in the order of
	// Members; each serves its member's region.
	DNS []string `json:"dns"`
	// Fedstate is the fedstate binary the components run.
	Fedstate string `json:"fedstate"`
	// RunDir holds the agents' run folders.
	RunDir string `json:"runDir"`
	// DrillReportDir is where the hub writes drill reports.
	DrillReportDir string `json:"drillReportDir"`
	// Started is when the federation became ready.
	Started time.Time `json:"started"`
}

// save writes the state of a detached federation into its folder.
func (f *Federation) save() error {
	s := State{
		Dir: f.opts.Dir, Members: f.opts.Members, EtcdURLs: f.EtcdURLs, DNS: f.DNS, Fedstate: f.Fedstate,
		RunDir: f.RunDir, DrillReportDir: f.DrillReportDir, Started: time.Now().UTC().Truncate(time.Second),
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(f.opts.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("localfed: write state: %w", err)
	}
	return os.Rename(tmp, filepath.Join(f.opts.Dir, stateFile))
}

// ErrNotRunning says a folder holds no detached federation.
var ErrNotRunning = errors.New("no local federation")

// Attach finds the detached federation of dir (started with
// Options.Detach). Close on the result stops it; the folder's data stays
// until the caller removes it.
func Attach(dir string) (*Federation, State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, s, fmt.Errorf("%w in %s", ErrNotRunning, dir)
	}
	if err != nil {
		return nil, s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, s, fmt.Errorf("localfed: parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	bed, err := testbed.Attach(filepath.Join(dir, "bed"))
	if err != nil {
		return nil, s, err
	}
	f := &Federation{
		Bed: bed, EtcdURLs: s.EtcdURLs, DNS: s.DNS, Fedstate: s.Fedstate, RunDir: s.RunDir, DrillReportDir: s.DrillReportDir,
		opts: Options{Dir: s.Dir, Members: s.Members, Detach: true},
	}
	scheme, err := hub.Scheme()
	if err != nil {
		return nil, s, err
	}
	rc, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		return nil, s, err
	}
	if f.Hub, err = client.New(rc, client.Options{Scheme: scheme}); err != nil {
		return nil, s, err
	}
	return f, s, nil
}

// Forget removes a stopped federation's state file, so that its folder no
// longer counts as a running federation.
func Forget(dir string) error {
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
