package drill

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/robfig/cron/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/drill/load"
)

// cronParser reads spec.schedule: five fields, no descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// ParseSchedule checks a schedule as the controller reads it.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// due says whether a run should start now and, for a scheduled drill, the
// schedule time it stands for and the next one.
func due(d *v1alpha1.FailoverDrill, now time.Time) (ok bool, scheduled, next time.Time, err error) {
	if d.Spec.Schedule == "" {
		return d.Status.Phase == "" || d.Status.Phase == v1alpha1.DrillPending, time.Time{}, time.Time{}, nil
	}
	s, err := ParseSchedule(d.Spec.Schedule)
	if err != nil {
		return false, time.Time{}, time.Time{}, err
	}
	now = now.UTC()
	from := d.CreationTimestamp.Time.UTC()
	if t := d.Status.LastScheduleTime; t != nil {
		from = t.Time.UTC()
	}
	// The latest schedule time missed; runs missed before it are not
	// made up for.
	for t := s.Next(from); !t.IsZero() && !t.After(now); t = s.Next(t) {
		scheduled = t
	}
	return !scheduled.IsZero(), scheduled, s.Next(now), nil
}

// maybeStart starts a run when one is due and no other drill of the
// service runs, after checking that the drill can run.
func (r *Reconciler) maybeStart(ctx context.Context, d *v1alpha1.FailoverDrill, now time.Time) (ctrl.Result, error) {
	ok, scheduled, next, err := due(d, now)
	if err != nil {
		r.invalid(d, err.Error())
		return ctrl.Result{}, nil
	}
	later := ctrl.Result{}
	if !next.IsZero() {
		later.RequeueAfter = next.Sub(now)
	}
	if !ok {
		if d.Status.Phase == "" {
			d.Status.Phase = v1alpha1.DrillPending
			r.progress(d, v1alpha1.ReasonDrillWaiting, "Next run at "+next.Format(time.RFC3339))
		}
		return later, nil
	}
	if other, err := r.running(ctx, d); err != nil {
		return ctrl.Result{}, err
	} else if other != "" {
		if d.Status.Phase == "" {
			d.Status.Phase = v1alpha1.DrillPending
		}
		r.progress(d, v1alpha1.ReasonDrillWaiting, fmt.Sprintf("Drill %s of %s is running", other, d.Spec.Service))
		return ctrl.Result{RequeueAfter: r.Config.WaitInterval}, nil
	}
	if !scheduled.IsZero() {
		t := metav1.NewTime(scheduled)
		d.Status.LastScheduleTime = &t
	}
	fss, regions, err := r.service(ctx, d)
	if err != nil {
		return ctrl.Result{}, err
	}
	primary, region, why := checkService(d, fss, regions)
	if why != "" {
		r.invalid(d, why)
		return later, nil
	}
	target := d.Spec.TargetRegion
	if target == "" {
		target = region
	}
	started := metav1.NewTime(now)
	d.Status = v1alpha1.FailoverDrillStatus{
		ObservedGeneration: d.Generation, Phase: v1alpha1.DrillRunning, Step: v1alpha1.DrillStepAway,
		Runs: d.Status.Runs + 1, Conditions: d.Status.Conditions, TargetRegion: target,
		OriginalPrimary: primary, StartedAt: &started, LastScheduleTime: d.Status.LastScheduleTime,
	}
	if rate := loadRate(d); rate > 0 && r.runs.get(d.UID, d.Status.Runs) == nil {
		t, err := r.NewTraffic(loadConfig(d, fss, rate))
		if err != nil {
			r.finish(d, now, v1alpha1.VerdictFailed, "Cannot start the client traffic: "+err.Error())
			return later, nil
		}
		r.runs.start(d.UID, d.Status.Runs, t)
	}
	r.enter(d, v1alpha1.DrillStepAway, v1alpha1.ReasonDrillSwitchingAway,
		fmt.Sprintf("Run %d: %s of %s, target region %s, primary %s in %s", d.Status.Runs, d.Spec.Kind, fss.Name, target, primary, region))
	return r.advance(ctx, d)
}

// checkService says why the drill cannot run on fss; empty when it can.
// It returns the primary replica and its region.
func checkService(d *v1alpha1.FailoverDrill, fss *v1alpha1.FederatedStatefulSet, regions map[string]string) (primary, region, why string) {
	if fss == nil {
		return "", "", fmt.Sprintf("No FederatedStatefulSet %s in namespace %s", d.Spec.Service, d.Namespace)
	}
	if fss.Spec.Replication == nil || fss.Spec.Replication.Mode != v1alpha1.ReplicationPrimaryReplica {
		return "", "", fmt.Sprintf("%s is not in replication mode PrimaryReplica: it has no primary to move", fss.Name)
	}
	primary, region, ok := primaryOf(fss, regions)
	if !ok {
		return "", "", fmt.Sprintf("%s has no primary yet", fss.Name)
	}
	if t := d.Spec.TargetRegion; t != "" {
		known := false
		for _, r := range regions {
			known = known || r == t
		}
		if !known {
			return "", "", fmt.Sprintf("No member cluster is in region %s", t)
		}
		if d.Spec.Kind == v1alpha1.DrillSwitchover && t == region {
			return "", "", fmt.Sprintf("The primary %s already runs in region %s: a switchover drill needs another region", primary, t)
		}
	}
	return primary, region, ""
}

// running names another drill of the same service whose run is under way,
// as the API server has it; empty for none.
func (r *Reconciler) running(ctx context.Context, d *v1alpha1.FailoverDrill) (string, error) {
	var list v1alpha1.FailoverDrillList
	if err := r.APIReader.List(ctx, &list, client.InNamespace(d.Namespace)); err != nil {
		return "", fmt.Errorf("list FailoverDrills in %s: %w", d.Namespace, err)
	}
	for _, o := range list.Items {
		if o.UID != d.UID && o.Spec.Service == d.Spec.Service && o.Status.Step != "" && o.Status.Step != v1alpha1.DrillStepDone {
			return o.Name, nil
		}
	}
	return "", nil
}

// invalid ends a drill that cannot run, once per reason.
func (r *Reconciler) invalid(d *v1alpha1.FailoverDrill, why string) {
	if d.Status.Phase == v1alpha1.DrillFailed && d.Status.Reason == why {
		return
	}
	d.Status.Phase, d.Status.Verdict, d.Status.Reason, d.Status.Step = v1alpha1.DrillFailed, v1alpha1.VerdictFailed, why, v1alpha1.DrillStepDone
	d.Status.ObservedGeneration = d.Generation
	r.progress(d, v1alpha1.ReasonDrillInvalid, why)
	r.warn(d, "DrillInvalid", "Start", why)
}

// loadRate is the drill's writes a second.
func loadRate(d *v1alpha1.FailoverDrill) int32 {
	if d.Spec.Load.Rate == nil {
		return 20
	}
	return *d.Spec.Load.Rate
}

// loadConfig is the traffic of a run against fss.
func loadConfig(d *v1alpha1.FailoverDrill, fss *v1alpha1.FederatedStatefulSet, rate int32) load.Config {
	cfg := load.DefaultConfig()
	if d.Spec.Load.DNSServer != "" {
		cfg.DNSServer = d.Spec.Load.DNSServer
	}
	if d.Spec.Load.Zone != "" {
		cfg.Zone = d.Spec.Load.Zone
	}
	cfg.Namespace, cfg.Service, cfg.Port = fss.Namespace, fss.Name, port(fss)
	cfg.Rate, cfg.CreateTable = float64(rate), true
	return cfg
}

// port is the service's PostgreSQL port: the one named postgres or pg,
// else the first, else 5432.
func port(fss *v1alpha1.FederatedStatefulSet) uint16 {
	ports := fss.Spec.Ports
	if i := slices.IndexFunc(ports, func(p v1alpha1.ServicePort) bool { return p.Name == "postgres" || p.Name == "pg" }); i >= 0 {
		return uint16(ports[i].Port)
	}
	if len(ports) > 0 {
		return uint16(ports[0].Port)
	}
	return 5432
}
