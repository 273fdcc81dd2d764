package postgres

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// parseWALFileName parses a log segment file name: 24 upper-case
// hexadecimal digits, the timeline then the segment number in two halves.
func parseWALFileName(name string) (timeline uint32, segment uint64, err error) {
	if len(name) != 24 || strings.ToUpper(name) != name {
		return 0, 0, fmt.Errorf("log file name %q: want 24 upper-case hexadecimal digits", name)
	}
	tli, err := strconv.ParseUint(name[:8], 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("log file name %q: %w", name, err)
	}
	hi, err := strconv.ParseUint(name[8:16], 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("log file name %q: %w", name, err)
	}
	lo, err := strconv.ParseUint(name[16:], 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("log file name %q: %w", name, err)
	}
	if tli == 0 {
		return 0, 0, fmt.Errorf("log file name %q: timeline 0", name)
	}
	return uint32(tli), hi<<32 | lo, nil
}

// fork is one line of a timeline history file: timeline Timeline ended,
// and its successor began, at position Switch.
type fork struct {
	// Timeline is the parent timeline.
	Timeline uint32
	// Switch is the first position of the child timeline; the parent's log
	// beyond it is not part of the child's history.
	Switch LSN
}

// parseHistory parses a timeline history file ("<tli>\t<lsn>\t<reason>"
// lines, with # comments and blank lines), checking that timelines
// increase, as the server's own reader does.
func parseHistory(content string) ([]fork, error) {
	var forks []fork
	sc := bufio.NewScanner(strings.NewReader(content))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return nil, fmt.Errorf("history line %d %q: want a timeline and a position", n, line)
		}
		tli, err := strconv.ParseUint(fields[0], 10, 32)
		if err != nil || tli == 0 {
			return nil, fmt.Errorf("history line %d %q: bad timeline", n, line)
		}
		sw, err := ParseLSN(fields[1])
		if err != nil {
			return nil, fmt.Errorf("history line %d: %w", n, err)
		}
		if len(forks) > 0 && uint32(tli) <= forks[len(forks)-1].Timeline {
			return nil, fmt.Errorf("history line %d %q: timelines must increase", n, line)
		}
		forks = append(forks, fork{Timeline: uint32(tli), Switch: sw})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return forks, nil
}

// controlData is what Follow reads from pg_controldata.
type controlData struct {
	// SystemID identifies the cluster; copies share it.
	SystemID uint64
	// State is "shut down", "shut down in recovery", "in production", ...
	State string
	// Checkpoint is the latest checkpoint's position and CheckpointTimeline
	// its timeline.
	Checkpoint         LSN
	CheckpointTimeline uint32
	// MinRecovery is where a standby's replay must reach to be consistent,
	// on MinRecoveryTimeline; InvalidLSN on a primary.
	MinRecovery         LSN
	MinRecoveryTimeline uint32
}

// Cluster states of pg_controldata that mean a clean shutdown.
const (
	stateShutDown           = "shut down"
	stateShutDownInRecovery = "shut down in recovery"
)

// parseControlData parses pg_controldata's output ("Label:   value"
// lines, C locale).
func parseControlData(out string) (controlData, error) {
	fields := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	var cd controlData
	var errs []string
	field := func(label string) (string, bool) {
		v, ok := fields[label]
		if !ok {
			errs = append(errs, fmt.Sprintf("no %q", label))
		}
		return v, ok
	}
	num := func(label string, bits int) uint64 {
		v, ok := field(label)
		n, err := strconv.ParseUint(v, 10, bits)
		if ok && err != nil {
			errs = append(errs, fmt.Sprintf("%s %q: not a number", label, v))
		}
		return n
	}
	lsn := func(label string) LSN {
		v, ok := field(label)
		l, err := ParseLSN(v)
		if ok && err != nil {
			errs = append(errs, err.Error())
		}
		return l
	}
	cd.SystemID = num("Database system identifier", 64)
	cd.State, _ = field("Database cluster state")
	cd.Checkpoint = lsn("Latest checkpoint location")
	cd.CheckpointTimeline = uint32(num("Latest checkpoint's TimeLineID", 32))
	cd.MinRecovery = lsn("Minimum recovery ending location")
	cd.MinRecoveryTimeline = uint32(num("Min recovery ending loc's timeline", 32))
	if len(errs) > 0 {
		return controlData{}, fmt.Errorf("pg_controldata output: %s", strings.Join(errs, "; "))
	}
	return cd, nil
}
