package drill

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// advance carries out the drill's current step and the ones that follow
// at once. The steps: Away (request the switchover; RegionOutage taints
// the region first), Hold, Back (untaint, switch back), Reporting; an
// abort or a failed request goes to Reverting, which is Back.
func (r *Reconciler) advance(ctx context.Context, d *v1alpha1.FailoverDrill) (ctrl.Result, error) {
	now := r.Now()
	if d.Status.Step == "" || d.Status.Step == v1alpha1.DrillStepDone {
		return r.maybeStart(ctx, d, now)
	}
	fss, regions, err := r.service(ctx, d)
	if err != nil {
		return ctrl.Result{}, err
	}
	if fss == nil {
		if _, err := r.untaint(ctx, d); err != nil {
			return ctrl.Result{}, err
		}
		r.runs.forget(d.UID)
		r.finish(d, now, v1alpha1.VerdictFailed, fmt.Sprintf("The FederatedStatefulSet %s was deleted during the drill", d.Spec.Service))
		return ctrl.Result{}, nil
	}
	if rn := r.runs.get(d.UID, d.Status.Runs); rn != nil {
		rn.sampleLag(fss, now)
	}
	for range 5 { // each step either waits or hands over to the next
		step := d.Status.Step
		var res ctrl.Result
		switch step {
		case v1alpha1.DrillStepAway:
			res, err = r.away(ctx, d, fss, regions, now)
		case v1alpha1.DrillStepHold:
			res = r.hold(d, now)
		case v1alpha1.DrillStepBack, v1alpha1.DrillStepReverting:
			res, err = r.back(ctx, d, fss, regions, now)
		case v1alpha1.DrillStepReport:
			res, err = r.report(ctx, d, fss, now)
		default:
			return ctrl.Result{}, nil
		}
		if err != nil || d.Status.Step == step || d.Status.Step == v1alpha1.DrillStepDone {
			return res, err
		}
	}
	return ctrl.Result{RequeueAfter: r.Config.PollInterval}, nil
}

// service reads the drill's service and the member clusters' regions; a
// nil service when it does not exist.
func (r *Reconciler) service(ctx context.Context, d *v1alpha1.FailoverDrill) (*v1alpha1.FederatedStatefulSet, map[string]string, error) {
	var fss v1alpha1.FederatedStatefulSet
	key := client.ObjectKey{Namespace: d.Namespace, Name: d.Spec.Service}
	if err := r.Client.Get(ctx, key, &fss); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("get FederatedStatefulSet %s: %w", key, err)
	}
	var mcs v1alpha1.MemberClusterList
	if err := r.Client.List(ctx, &mcs); err != nil {
		return nil, nil, fmt.Errorf("list MemberClusters: %w", err)
	}
	regions := map[string]string{}
	for _, mc := range mcs.Items {
		regions[mc.Name] = mc.Spec.Region
	}
	return &fss, regions, nil
}

// away requests the switchover that moves the primary (for RegionOutage
// after tainting the region) and waits for its outcome.
func (r *Reconciler) away(ctx context.Context, d *v1alpha1.FailoverDrill, fss *v1alpha1.FederatedStatefulSet, regions map[string]string, now time.Time) (ctrl.Result, error) {
	poll := ctrl.Result{RequeueAfter: r.Config.PollInterval}
	if d.Spec.Kind == v1alpha1.DrillRegionOutage {
		if err := r.taint(ctx, d, regions); err != nil {
			return ctrl.Result{}, err
		}
	}
	if len(d.Status.Requests) == 0 {
		_, region, _ := primaryOf(fss, regions)
		to := d.Status.TargetRegion
		switch {
		case d.Spec.Kind == v1alpha1.DrillRegionOutage && region != d.Status.TargetRegion:
			r.enter(d, v1alpha1.DrillStepHold, v1alpha1.ReasonDrillHolding, fmt.Sprintf("Region %s is tainted; the primary runs elsewhere (%s), for %s", d.Status.TargetRegion, region, holdFor(d)))
			return poll, nil
		case d.Spec.Kind == v1alpha1.DrillRegionOutage:
			var err error
			if to, err = replicaOutside(fss, regions, d.Status.TargetRegion); err != nil {
				r.abort(d, "Cannot move the primary out of region "+d.Status.TargetRegion+": "+err.Error())
				return poll, nil
			}
		case region == to:
			r.enter(d, v1alpha1.DrillStepReport, v1alpha1.ReasonDrillReporting, "The primary already runs in "+to)
			return poll, nil
		}
		return poll, r.request(ctx, d, fss, to, now)
	}
	req := &d.Status.Requests[len(d.Status.Requests)-1]
	observe(req, fss)
	switch req.Phase {
	case v1alpha1.RequestSucceeded:
		if reason := abortReason(d.Spec.Abort, now, req, d.Status.Requests, fss); reason != "" {
			r.abort(d, reason)
		} else if d.Spec.Kind == v1alpha1.DrillFailback {
			r.enter(d, v1alpha1.DrillStepReport, v1alpha1.ReasonDrillReporting, req.Message)
		} else {
			r.enter(d, v1alpha1.DrillStepHold, v1alpha1.ReasonDrillHolding, fmt.Sprintf("%s; holding for %s", req.Message, holdFor(d)))
		}
	case v1alpha1.RequestFailed, v1alpha1.RequestRefused:
		r.warn(d, "Switchover"+string(req.Phase), "Switchover", fmt.Sprintf("The switchover to %s was %s: %s", req.To, req.Phase, req.Message))
		r.enter(d, v1alpha1.DrillStepReverting, v1alpha1.ReasonDrillReverting, "The switchover to "+req.To+" did not succeed")
	default:
		if reason := abortReason(d.Spec.Abort, now, req, d.Status.Requests, fss); reason != "" {
			r.abort(d, reason)
		}
	}
	return poll, nil
}

// hold waits until spec.holdFor has passed since the primary moved (or
// the run began, when it did not have to).
func (r *Reconciler) hold(d *v1alpha1.FailoverDrill, now time.Time) ctrl.Result {
	start := d.Status.StartedAt.Time
	if n := len(d.Status.Requests); n > 0 && d.Status.Requests[n-1].CompletedAt != nil {
		start = d.Status.Requests[n-1].CompletedAt.Time
	}
	if left := start.Add(holdFor(d)).Sub(now); left > 0 {
		// Wake at least every poll interval to sample the replicas' lag.
		return ctrl.Result{RequeueAfter: min(left, r.Config.PollInterval)}
	}
	r.enter(d, v1alpha1.DrillStepBack, v1alpha1.ReasonDrillSwitchingBack, "The hold is over")
	return ctrl.Result{}
}

// back restores the region and switches the primary back to the replica
// that was primary, once any request under way has settled.
func (r *Reconciler) back(ctx context.Context, d *v1alpha1.FailoverDrill, fss *v1alpha1.FederatedStatefulSet, regions map[string]string, now time.Time) (ctrl.Result, error) {
	poll := ctrl.Result{RequeueAfter: r.Config.PollInterval}
	if _, err := r.untaint(ctx, d); err != nil {
		return ctrl.Result{}, err
	}
	n := len(d.Status.Requests)
	if n > 0 {
		req := &d.Status.Requests[n-1]
		observe(req, fss)
		if !settled(req.Phase) {
			if d.Status.Phase != v1alpha1.DrillAborted {
				if reason := abortReason(d.Spec.Abort, now, req, d.Status.Requests, fss); reason != "" {
					r.abort(d, reason)
				}
			}
			return poll, nil
		}
	}
	primary, _, _ := primaryOf(fss, regions)
	if n == 0 || n >= 2 || primary == d.Status.OriginalPrimary {
		r.enter(d, v1alpha1.DrillStepReport, v1alpha1.ReasonDrillReporting, "Verifying the writes and writing the report")
		return poll, nil
	}
	// Right after the switchover (an abort, a short hold) the original
	// primary may not follow the new one yet, and the coordinator would
	// refuse it as a target.
	if ended := d.Status.Requests[n-1].CompletedAt; !follows(fss, d.Status.OriginalPrimary) &&
		ended != nil && now.Before(ended.Add(r.Config.FollowTimeout)) {
		reason := v1alpha1.ReasonDrillSwitchingBack
		if d.Status.Step == v1alpha1.DrillStepReverting {
			reason = v1alpha1.ReasonDrillReverting
		}
		r.progress(d, reason, fmt.Sprintf("Waiting for %s to follow the primary %s before switching back", d.Status.OriginalPrimary, primary))
		return poll, nil
	}
	return poll, r.request(ctx, d, fss, d.Status.OriginalPrimary, now)
}

// request sets the service's switchover annotation to a new request of
// the run, to target to, and records it.
func (r *Reconciler) request(ctx context.Context, d *v1alpha1.FailoverDrill, fss *v1alpha1.FederatedStatefulSet, to string, now time.Time) error {
	id := requestID(string(d.UID), d.Status.Runs, len(d.Status.Requests))
	patch := client.MergeFrom(fss.DeepCopy())
	if fss.Annotations == nil {
		fss.Annotations = map[string]string{}
	}
	fss.Annotations[v1alpha1.AnnotationSwitchover] = "id=" + id + ",to=" + to
	if err := r.Client.Patch(ctx, fss, patch); err != nil {
		return fmt.Errorf("request a switchover of FederatedStatefulSet %s/%s: %w", fss.Namespace, fss.Name, err)
	}
	d.Status.Requests = append(d.Status.Requests, v1alpha1.DrillRequest{ID: id, To: to, RequestedAt: metav1.NewMicroTime(now)})
	reason, msg := v1alpha1.ReasonDrillSwitchingAway, fmt.Sprintf("Requested a switchover of %s to %s (id %s)", fss.Name, to, id)
	if len(d.Status.Requests) > 1 {
		reason = v1alpha1.ReasonDrillSwitchingBack
		if d.Status.Step == v1alpha1.DrillStepReverting {
			reason = v1alpha1.ReasonDrillReverting
		}
	}
	r.progress(d, reason, msg)
	r.normal(d, "SwitchoverRequested", "Switchover", msg)
	return nil
}

// observe copies the coordinator's answer to req from the service's
// status.requests.
func observe(req *v1alpha1.DrillRequest, fss *v1alpha1.FederatedStatefulSet) {
	for _, rs := range fss.Status.Requests {
		if rs.Kind != v1alpha1.RequestSwitchover || rs.ID != req.ID {
			continue
		}
		req.Phase, req.Epoch, req.Message = rs.Phase, rs.Epoch, rs.Message
		if settled(rs.Phase) && req.CompletedAt == nil {
			t := metav1.NewMicroTime(rs.Time.Time)
			req.CompletedAt = &t
		}
	}
}

// abort stops the run for reason: the verdict is Aborted and the run
// reverts what it changed.
func (r *Reconciler) abort(d *v1alpha1.FailoverDrill, reason string) {
	d.Status.Phase, d.Status.Verdict, d.Status.Reason = v1alpha1.DrillAborted, v1alpha1.VerdictAborted, reason
	r.warn(d, "DrillAborted", "Abort", reason)
	r.enter(d, v1alpha1.DrillStepReverting, v1alpha1.ReasonDrillReverting, reason)
}

// enter moves the run to step, with the Progressing condition's reason
// and an event.
func (r *Reconciler) enter(d *v1alpha1.FailoverDrill, step v1alpha1.DrillStep, reason, msg string) {
	d.Status.Step = step
	r.progress(d, reason, msg)
	r.normal(d, reason, string(step), msg)
}

// progress sets the Progressing condition.
func (r *Reconciler) progress(d *v1alpha1.FailoverDrill, reason, msg string) {
	status := metav1.ConditionTrue
	if reason == v1alpha1.ReasonDrillFinished || reason == v1alpha1.ReasonDrillInvalid {
		status = metav1.ConditionFalse
	}
	meta.SetStatusCondition(&d.Status.Conditions, metav1.Condition{Type: v1alpha1.DrillProgressing, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: d.Generation})
}

func (r *Reconciler) normal(d *v1alpha1.FailoverDrill, reason, action, note string) {
	r.Recorder.Eventf(d, nil, corev1.EventTypeNormal, reason, action, "%s", note)
}

func (r *Reconciler) warn(d *v1alpha1.FailoverDrill, reason, action, note string) {
	r.Recorder.Eventf(d, nil, corev1.EventTypeWarning, reason, action, "%s", note)
}

// holdFor is the drill's hold, 30 s when unset.
func holdFor(d *v1alpha1.FailoverDrill) time.Duration {
	if d.Spec.HoldFor == nil {
		return 30 * time.Second
	}
	return d.Spec.HoldFor.Duration
}
