package v1alpha1_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

func TestFailoverDrillDefaults(t *testing.T) {
	d := &v1alpha1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Name: "outage", Namespace: "default"},
		Spec: v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillRegionOutage}}
	if err := hub.Create(t.Context(), d, client.DryRunAll); err != nil {
		t.Fatal(err)
	}
	s := d.Spec
	if s.HoldFor == nil || s.HoldFor.Duration.String() != "30s" || s.Abort.OnNoCandidate == nil || !*s.Abort.OnNoCandidate ||
		s.Load.Rate == nil || *s.Load.Rate != 20 || s.Load.DNSServer != "127.0.0.1:5353" || s.Load.Zone != "fedstate.local." {
		t.Errorf("defaults: %+v", s)
	}
}

func TestInvalidFailoverDrillIsRejectedNamingTheField(t *testing.T) {
	cases := []struct {
		name           string
		spec           v1alpha1.FailoverDrillSpec
		field, message string
	}{
		{name: "switchover without target", spec: v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillSwitchover},
			field: "spec.targetRegion", message: "targetRegion is required for kind Switchover and Failback"},
		{name: "failback without target", spec: v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillFailback},
			field: "spec.targetRegion", message: "targetRegion is required"},
		{name: "unknown kind", spec: v1alpha1.FailoverDrillSpec{Service: "db", Kind: "Meteor"},
			field: "spec.kind", message: "Unsupported value"},
		{name: "schedule of four fields", spec: v1alpha1.FailoverDrillSpec{Service: "db", Kind: v1alpha1.DrillRegionOutage, Schedule: "0 3 * *"},
			field: "spec.schedule", message: "should match"},
		{name: "no service", spec: v1alpha1.FailoverDrillSpec{Kind: v1alpha1.DrillRegionOutage},
			field: "spec.service", message: "at least 1 chars long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &v1alpha1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default"}, Spec: c.spec}
			err := hub.Create(t.Context(), d, client.DryRunAll)
			if err == nil || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %v, want one naming %s with %q", err, c.field, c.message)
			}
		})
	}
}
