package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

// progressLogger writes one line per log call to w: the message, then the
// key=value pairs. fedctl passes it to the libraries in the context, so
// their progress appears on stderr.
func progressLogger(w io.Writer) logr.Logger {
	return logr.New(&lineSink{w: w, mu: &sync.Mutex{}})
}

// lineSink is a logr.LogSink writing plain lines. Only level 0 is printed.
type lineSink struct {
	w      io.Writer
	mu     *sync.Mutex
	values []any
}

// Init does nothing: lines carry no caller information.
func (s *lineSink) Init(logr.RuntimeInfo) {}

// Enabled is true for level 0 only: progress, not debugging.
func (s *lineSink) Enabled(level int) bool { return level == 0 }

// Info writes the message and its key=value pairs on one line.
func (s *lineSink) Info(_ int, msg string, kv ...any) { s.write(msg, kv) }

// Error writes the message, its pairs and the error on one line.
func (s *lineSink) Error(err error, msg string, kv ...any) {
	s.write(msg, append(kv, "error", err))
}

// WithValues returns a sink that adds kv to every line.
func (s *lineSink) WithValues(kv ...any) logr.LogSink {
	return &lineSink{w: s.w, mu: s.mu, values: append(append([]any(nil), s.values...), kv...)}
}

// WithName drops the name: the lines are for the operator.
func (s *lineSink) WithName(string) logr.LogSink { return s }

func (s *lineSink) write(msg string, kv []any) {
	var b strings.Builder
	b.WriteString(msg)
	all := append(append([]any(nil), s.values...), kv...)
	for i := 0; i+1 < len(all); i += 2 {
		v := fmt.Sprint(all[i+1])
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %v=%s", all[i], v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.w, b.String())
}
