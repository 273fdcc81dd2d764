package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// requestOptions are the flags fedctl switchover and failover share.
type requestOptions struct {
	service serviceFlags
	timeout time.Duration
	noWait  bool
}

// add adds the shared flags to cmd.
func (o *requestOptions) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the outcome")
	f.BoolVar(&o.noWait, "no-wait", false, "set the request and return without waiting for its outcome")
	o.service.add(cmd)
}

// opRequest is one request to the hub's failover coordinator.
type opRequest struct {
	kind       v1alpha1.RequestKind
	annotation string
	// fields are the annotation's fields after the id.
	fields []string
	// detail describes the request's options for people (" to us-1").
	detail string
}

// newRequestID names a request: the time and a random suffix, which the
// annotation's id syntax accepts.
func newRequestID(now time.Time) string {
	return now.UTC().Format("20060102t150405") + "-" + rand.String(5)
}

// runRequest sets the request's annotation on the service and, unless
// told not to, follows its outcome in the service's status: progress
// lines (the FailingOver condition as it changes) on stderr, the outcome
// on stdout. A refused or failed request is an error.
func runRequest(cmd *cobra.Command, o *requestOptions, arg string, r opRequest) error {
	hub, key, err := o.service.connect(arg)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	id := newRequestID(time.Now())
	if err := annotate(ctx, hub, key, r, id); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Requested %s of %s%s (request %s)\n", strings.ToLower(string(r.kind)), key, r.detail, id)
	if o.noWait {
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s: requested; follow it in status.requests\n", key, r.kind)
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rs, err := follow(wctx, hub, key, r.kind, id, cmd.ErrOrStderr())
	if err != nil {
		return fmt.Errorf("%s of %s (request %s): %w", r.kind, key, id, err)
	}
	if rs.Phase != v1alpha1.RequestSucceeded {
		return fmt.Errorf("%s of %s %s: %s", r.kind, key, strings.ToLower(string(rs.Phase)), rs.Message)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s of %s succeeded: %s\n", r.kind, key, rs.Message)
	return nil
}

// annotate sets the request's annotation, refusing a service that has no
// primary to move.
func annotate(ctx context.Context, hub client.Client, key client.ObjectKey, r opRequest, id string) error {
	fss, err := getService(ctx, hub, key)
	if err != nil {
		return err
	}
	if rep := fss.Spec.Replication; rep == nil || rep.Mode != v1alpha1.ReplicationPrimaryReplica {
		return fmt.Errorf("%s is not in replication mode PrimaryReplica: it has no primary", key)
	}
	patch := client.MergeFrom(fss.DeepCopy())
	if fss.Annotations == nil {
		fss.Annotations = map[string]string{}
	}
	fss.Annotations[r.annotation] = strings.Join(append([]string{"id=" + id}, r.fields...), ",")
	if err := hub.Patch(ctx, fss, patch); err != nil {
		return fmt.Errorf("annotate %s: %w", key, err)
	}
	return nil
}

// follow polls the service until the hub has answered request id with a
// final phase, writing a line to progress whenever the phase or the
// FailingOver condition changes.
func follow(ctx context.Context, hub client.Reader, key client.ObjectKey, kind v1alpha1.RequestKind, id string, progress io.Writer) (v1alpha1.RequestStatus, error) {
	var last string
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		var fss v1alpha1.FederatedStatefulSet
		if err := hub.Get(ctx, key, &fss); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return v1alpha1.RequestStatus{}, fmt.Errorf("get FederatedStatefulSet %s: %w", key, err)
		}
		rs := findRequest(fss.Status.Requests, kind, id)
		if line := progressLine(&fss, rs); line != last && line != "" {
			fmt.Fprintln(progress, line)
			last = line
		}
		if rs != nil && rs.Phase != v1alpha1.RequestAccepted {
			return *rs, nil
		}
		select {
		case <-ctx.Done():
			if rs == nil {
				return v1alpha1.RequestStatus{}, errors.New("the hub has not answered; is fedstate hub running with failover enabled?")
			}
			return v1alpha1.RequestStatus{}, fmt.Errorf("accepted, still under way: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// findRequest returns the status of request id of kind, or nil.
func findRequest(list []v1alpha1.RequestStatus, kind v1alpha1.RequestKind, id string) *v1alpha1.RequestStatus {
	for i := range list {
		if list[i].Kind == kind && list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}

// progressLine describes where the request and the service stand.
func progressLine(fss *v1alpha1.FederatedStatefulSet, rs *v1alpha1.RequestStatus) string {
	if rs == nil {
		return "  waiting for the hub"
	}
	line := "  " + string(rs.Phase)
	if c := meta.FindStatusCondition(fss.Status.Conditions, v1alpha1.ServiceFailingOver); c != nil {
		line += fmt.Sprintf(": FailingOver=%s %s: %s", c.Status, c.Reason, c.Message)
	}
	return line
}
