package config

import "errors"

// Drills configures the FailoverDrill controller, which runs with the
// failover coordinator.
type Drills struct {
	// ReportDir is the directory drill reports are written under, one
	// directory per run: <reportDir>/<namespace>/<drill>-<run>/ with
	// timeline.svg, timeline.png and summary.txt. A relative path is
	// relative to the hub's working directory.
	ReportDir string `json:"reportDir"`
}

// DefaultDrills is the drill controller's default configuration.
func DefaultDrills() Drills {
	// Beside the embedded etcd's data directory (fedstate.etcd): the hub's
	// working directory holds its local state.
	return Drills{ReportDir: "fedstate-drills"}
}

// Validate reports every bad field at once, each named by its path in the
// hub's configuration file.
func (d Drills) Validate() error {
	var errs []error
	if d.ReportDir == "" {
		errs = append(errs, errors.New("drills.reportDir: required"))
	}
	return errors.Join(errs...)
}
