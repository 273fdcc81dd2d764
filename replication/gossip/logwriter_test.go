package gossip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		line string
		want signal
		ok   bool
	}{
		{line: fmt.Sprintf(fmtDirectMiss, "eu-1"), want: signal{kind: sigDirectMiss, node: "eu-1"}, ok: true},
		{line: fmt.Sprintf(fmtProbeFailed, "hub-0.fedstate"), want: signal{kind: sigProbeFailed, node: "hub-0.fedstate"}, ok: true},
		{line: fmt.Sprintf(fmtDeclared, "ap-1", 2), want: signal{kind: sigDeclared, node: "ap-1", confirmations: 2}, ok: true},
		{line: fmt.Sprintf(fmtDeclared, "ap-1", 0), want: signal{kind: sigDeclared, node: "ap-1"}, ok: true},
		{line: "[INFO] memberlist: Marking ap-1 as failed, suspect timeout reached (x peer confirmations)"},
		{line: "[INFO] memberlist: Suspect a b has failed, no acks received"},
		{line: "[DEBUG] memberlist: Failed UDP ping: a b (timeout reached)"},
		{line: "[DEBUG] memberlist: Failed UDP ping: eu-1"},
		{line: "[WARN] memberlist: Refuting a suspect message (from: hub)"},
		{line: ""},
	}
	for _, tt := range tests {
		got, ok := parseSignal(tt.line)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseSignal(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLogWriter(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{Verbosity: 2})
	v := newView(func(int) time.Duration { return time.Minute }, time.Hour, func() int { return 0 }, nil)
	v.join(nodeInfo{name: "eu-1", meta: agentMeta("eu-1", false)}, false, time.Now())
	w := &logWriter{log: log, view: v, now: time.Now}
	in := "[WARN] memberlist: Refuting a suspect message (from: hub)\n" + fmt.Sprintf(fmtProbeFailed, "eu-1") + "\n"
	if n, err := w.Write([]byte(in)); n != len(in) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if len(lines) != 2 || !strings.Contains(lines[0], `"msg"="Refuting a suspect message (from: hub)"`) ||
		!strings.Contains(lines[0], `"severity"="WARN"`) || !strings.Contains(lines[0], `"level"=1`) {
		t.Fatalf("forwarded %q", lines)
	}
	if got := v.snapshot()[0].State; got != StateSuspect {
		t.Fatalf("eu-1 after its failed probe was logged: %v, want suspect", got)
	}
	lines = nil
	if _, err := w.Write([]byte(fmt.Sprintf(fmtDirectMiss, "eu-1") + "\n")); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"level"=2`) {
		t.Fatalf("debug line forwarded as %q, want V(2)", lines)
	}
}
