package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedstate/fedstate/federation/drill/load"
)

func TestSummary(t *testing.T) {
	golden(t, "summary.golden", Summary(fixture()))

	d := fixture()
	d.Verdict = Verdict{Result: Failed, Reason: "3 acknowledged writes lost"}
	d.RPO = RPO{Bytes: 24576, Transactions: 3, MissingWrites: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	d.Load = load.Analyze(fixtureOps(16000), t0, at(16100), 500*time.Millisecond)
	golden(t, "summary-lost.golden", Summary(d))

	golden(t, "summary-empty.golden", Summary(Data{Title: "Empty", Start: t0}))
}

func TestRTO(t *testing.T) {
	d := fixture()
	if got, want := d.RTO(), 7904*time.Millisecond; got != want {
		t.Errorf("RTO %v, want %v", got, want)
	}
	if got := (Data{}).RTO(); got != 0 {
		t.Errorf("RTO without phases %v, want 0", got)
	}
	measured := d
	measured.MeasuredRTO = 7900 * time.Millisecond
	if got := measured.RTO(); got != measured.MeasuredRTO {
		t.Errorf("RTO with a measured one %v, want %v", got, measured.MeasuredRTO)
	}
	if s := Summary(measured); !strings.Contains(s, "RTO:       7.900 s (the request to the first write the new primary acknowledged)") {
		t.Errorf("summary does not give the measured RTO:\n%s", s)
	}
	d.Start = time.Time{}
	if got := d.Origin(); !got.Equal(t0) {
		t.Errorf("origin %v, want the load's start %v", got, t0)
	}
}

func TestLoadSummary(t *testing.T) {
	got := LoadSummary(load.Analyze(fixtureOps(30000), at(1000), at(30000), 500*time.Millisecond))
	for _, want := range []string{"Clients:\n", "gap:                7.954 s from write 200 at t = 8.953 s to write 264 at t = 16.907 s"} {
		if !strings.Contains(got, want) {
			t.Errorf("load summary lacks %q:\n%s", want, got)
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	if *update {
		writeFile(t, name, []byte(got))
		return
	}
	want, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update to accept):\n%s\nwant\n%s", name, got, want)
	}
}
