package main

import (
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// fixtureEvents are events of namespace prod: two earlier runs of lose-us
// and the last, a step event, and an event of another drill.
func fixtureEvents() []eventsv1.Event {
	ev := func(drill, reason, note string, ago time.Duration) eventsv1.Event {
		return eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: drill + "." + reason},
			Regarding: corev1.ObjectReference{Kind: "FailoverDrill", Namespace: "prod", Name: drill},
			Reason:    reason, Note: note, EventTime: metav1.NewMicroTime(fixtureNow.Add(-ago))}
	}
	return []eventsv1.Event{
		ev("lose-us", "DrillFailed", "Region outage of prod/db in us-east: RTO 12.4s exceeds maxRTO 10s", 7*24*time.Hour+9*time.Minute),
		ev("lose-us", "DrillSucceeded", "Region outage of prod/db in us-east: RTO 2.311s, downtime 2.204s, 41 failed writes, nothing lost", 9*time.Minute+20*time.Second),
		ev("lose-us", "Holding", "Holding for 30s", 10*time.Minute+58*time.Second),
		ev("to-eu", "DrillAborted", "maxRTO passed", time.Hour),
		ev("lose-us", "DrillAborted", "Region outage of prod/db: the coordinator has no candidate outside us-east", 14*24*time.Hour+9*time.Minute),
	}
}

// fixtureSummary is a summary.txt as the hub writes it, shortened.
const fixtureSummary = `RegionOutage drill of prod/db, run 3
Verdict: Passed: Region outage of prod/db in us-east: RTO 2.311s, downtime 2.204s, 41 failed writes, nothing lost
RTO: 2.311s
`

// TestRenderDrillReportGolden renders the last run of the region outage
// drill in every format, and the table of a drill under way, and compares
// them with testdata/drill-report-<case>.<format>.golden; -update rewrites
// them.
func TestRenderDrillReportGolden(t *testing.T) {
	drills := fixtureDrills()
	outage, running := &drills[1], &drills[0]
	for _, format := range []string{formatTable, formatJSON, formatYAML} {
		t.Run("outage/"+format, func(t *testing.T) {
			got, err := renderDrillReport(format, outage, fixtureEvents(), fixtureSummary)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "drill-report-outage."+format+".golden"), got)
		})
	}
	t.Run("running/table", func(t *testing.T) {
		got, err := renderDrillReport(formatTable, running, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("testdata", "drill-report-running.table.golden"), got)
	})
}

func TestBuildDrillReportHistory(t *testing.T) {
	d := fixtureDrills()[1]
	r := buildDrillReport(&d, fixtureEvents(), "")
	if len(r.History) != 3 || r.History[0].Result != "Passed" || r.History[1].Result != "Failed" || r.History[2].Result != "Aborted" {
		t.Errorf("history %+v, want Passed, Failed, Aborted newest first", r.History)
	}
	if r.Files.Summary != "/var/lib/fedstate/drills/prod/lose-us-3/summary.txt" || len(r.Files.Timelines) != 2 {
		t.Errorf("files %+v", r.Files)
	}
	d.Status = v1alpha1.FailoverDrillStatus{}
	if r := buildDrillReport(&d, nil, ""); r.Files.Dir != "" || len(r.History) != 0 || r.Phases == nil {
		t.Errorf("report of a drill never run: %+v", r)
	}
}
