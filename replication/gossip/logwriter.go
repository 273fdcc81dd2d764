package gossip

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// memberlist reports some of its failure detector's steps only in its log.
// These are its format strings (memberlist v0.7.0, state.go). The
// end-to-end tests fail if a memberlist upgrade changes them: the crash
// test needs fmtProbeFailed (a suspicion), the partition test
// fmtDirectMiss (DirectProbeFailed) and fmtDeclared (Corroborated).
const (
	// probeNode, after the direct UDP ping's ProbeTimeout.
	fmtDirectMiss = "[DEBUG] memberlist: Failed UDP ping: %s (timeout reached)"
	// probeNode, when the direct, indirect and TCP probes all failed,
	// just before it calls suspectNode.
	fmtProbeFailed = "[INFO] memberlist: Suspect %s has failed, no acks received"
	// the suspicion timer, just before it calls deadNode.
	fmtDeclared = "[INFO] memberlist: Marking %s as failed, suspect timeout reached (%d peer confirmations)"
)

// signalKind is a failure detector step read from memberlist's log.
type signalKind uint8

const (
	sigDirectMiss signalKind = iota + 1
	sigProbeFailed
	sigDeclared
)

// signal is one failure detector step about a node.
type signal struct {
	kind          signalKind
	node          string
	confirmations int
}

// parseSignal recognises the log lines of fmtDirectMiss, fmtProbeFailed
// and fmtDeclared. Node names are DNS-1123 subdomains (Config.Validate),
// so a name never contains the spaces the patterns split on.
func parseSignal(line string) (signal, bool) {
	if rest, ok := strings.CutPrefix(line, "[DEBUG] memberlist: Failed UDP ping: "); ok {
		if node, ok := strings.CutSuffix(rest, " (timeout reached)"); ok && isNodeName(node) {
			return signal{kind: sigDirectMiss, node: node}, true
		}
		return signal{}, false
	}
	if rest, ok := strings.CutPrefix(line, "[INFO] memberlist: Suspect "); ok {
		if node, ok := strings.CutSuffix(rest, " has failed, no acks received"); ok && isNodeName(node) {
			return signal{kind: sigProbeFailed, node: node}, true
		}
		return signal{}, false
	}
	if rest, ok := strings.CutPrefix(line, "[INFO] memberlist: Marking "); ok {
		node, rest, ok := strings.Cut(rest, " as failed, suspect timeout reached (")
		if !ok || !isNodeName(node) {
			return signal{}, false
		}
		var n int
		if _, err := fmt.Sscanf(rest, "%d peer confirmations)", &n); err != nil || n < 0 {
			return signal{}, false
		}
		return signal{kind: sigDeclared, node: node, confirmations: n}, true
	}
	return signal{}, false
}

// isNodeName says whether s can be the node name of a signal line: not
// empty, no spaces.
func isNodeName(s string) bool { return s != "" && !strings.Contains(s, " ") }

// logWriter is memberlist's log output: it forwards each line to a
// logr.Logger and feeds the failure detector's steps to the view. Write
// is called synchronously by memberlist's goroutines (through log.Logger,
// which serialises calls) and does not block.
type logWriter struct {
	log  logr.Logger
	view *view
	now  func() time.Time
}

// Write handles one or more newline-terminated log lines.
func (w *logWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		s := strings.TrimRight(string(line), "\r\n")
		if s == "" {
			continue
		}
		if sig, ok := parseSignal(s); ok {
			w.view.signal(sig, w.now())
		}
		level, msg := splitLevel(s)
		v := 1
		if level == "DEBUG" {
			v = 2
		}
		w.log.V(v).Info(msg, "severity", level)
	}
	return len(p), nil
}

// splitLevel splits "[WARN] memberlist: Refuting ..." into "WARN" and
// "Refuting ...".
func splitLevel(s string) (level, msg string) {
	if rest, ok := strings.CutPrefix(s, "["); ok {
		if l, m, ok := strings.Cut(rest, "] "); ok {
			level, s = l, m
		}
	}
	return level, strings.TrimPrefix(s, "memberlist: ")
}
