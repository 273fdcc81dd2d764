package members

import (
	"errors"
	"testing"
	"time"
)

func TestHealthObserve(t *testing.T) {
	ok := probeResult{Reached: true, Ready: true}
	down := probeResult{Err: errors.New("connection refused")}
	sick := probeResult{Reached: true, Err: errors.New("readyz: 500")}
	tests := []struct {
		name      string
		threshold int
		probes    []probeResult
		want      verdict
		failures  int
	}{
		{name: "no probe", threshold: 3, want: pending},
		{name: "first success", threshold: 3, probes: []probeResult{ok}, want: healthy},
		{name: "failures below threshold stay pending", threshold: 3, probes: []probeResult{down, down}, want: pending, failures: 2},
		{name: "threshold failures unreachable", threshold: 3, probes: []probeResult{down, down, down}, want: unreachable, failures: 3},
		{name: "threshold one", threshold: 1, probes: []probeResult{down}, want: unreachable, failures: 1},
		{name: "healthy survives a blip", threshold: 3, probes: []probeResult{ok, down, down}, want: healthy, failures: 2},
		{name: "healthy then outage", threshold: 2, probes: []probeResult{ok, down, down}, want: unreachable, failures: 2},
		{name: "answering but not ready", threshold: 2, probes: []probeResult{ok, sick, sick}, want: notReady, failures: 2},
		{name: "last probe decides reached", threshold: 2, probes: []probeResult{down, sick}, want: notReady, failures: 2},
		{name: "one success recovers", threshold: 2, probes: []probeResult{down, down, down, ok}, want: healthy},
		{name: "a success resets the count", threshold: 3, probes: []probeResult{ok, down, down, ok, down, down}, want: healthy, failures: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h health
			at := time.Unix(1000, 0)
			for i, p := range tt.probes {
				p.At = at.Add(time.Duration(i) * time.Second)
				h = h.observe(p, tt.threshold)
			}
			if h.Verdict != tt.want || h.Failures != tt.failures {
				t.Errorf("verdict %d failures %d, want %d and %d", h.Verdict, h.Failures, tt.want, tt.failures)
			}
			if n := len(tt.probes); n > 0 {
				if want := at.Add(time.Duration(n-1) * time.Second); !h.LastProbe.Equal(want) {
					t.Errorf("LastProbe = %s, want %s", h.LastProbe, want)
				}
				if last := tt.probes[n-1]; (h.LastErr == nil) != last.Ready {
					t.Errorf("LastErr = %v after a probe with Ready=%t", h.LastErr, last.Ready)
				}
			}
		})
	}
}
