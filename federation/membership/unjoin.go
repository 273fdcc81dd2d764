package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// ErrWrongCluster: the member configuration given to Unjoin reaches another
// cluster than the MemberCluster stands for.
var ErrWrongCluster = errors.New("membership: member configuration reaches another cluster")

// unjoiner carries what one Unjoin needs; it lives for one call.
type unjoiner struct {
	hub     client.Client
	name    string
	timeout time.Duration
	log     logr.Logger
	rep     Report
}

// Unjoin removes the member cluster name from the federation.
//
// It refuses with an *InUseError (errors.Is ErrInUse) while any
// FederatedStatefulSet in the hub names the cluster in status.ordinals or
// spec.placement.clusters, unless force is set. Otherwise it deletes the
// MemberCluster and its kubeconfig Secret from the hub and, when member (an
// admin configuration of the member cluster) is given and reachable, the
// binding, ClusterRole, token Secret, ServiceAccount and namespace Join made
// there; an unreachable or nil member leaves those behind. It never deletes
// workloads: the member's StatefulSet slices, their Services,
// PodDisruptionBudgets and claims stay and are listed in the Report, as is
// everything else left behind.
//
// A member configuration that reaches another cluster than the
// MemberCluster's recorded cluster ID is refused (ErrWrongCluster) before
// anything is deleted. Unjoin is idempotent: running it again after a
// partial run finishes the job.
func Unjoin(ctx context.Context, hub client.Client, member *rest.Config, name string, force bool) (Report, error) {
	if err := validateName(name); err != nil {
		return Report{Name: name}, err
	}
	if hub == nil {
		return Report{Name: name}, errors.New("membership: Unjoin needs a hub client")
	}
	if err := checkHubScheme(hub); err != nil {
		return Report{Name: name}, err
	}
	u := &unjoiner{
		hub: hub, name: name, timeout: DefaultCallTimeout,
		log: logr.FromContextOrDiscard(ctx).WithValues("cluster", name),
		rep: Report{Name: name},
	}
	err := u.unjoin(ctx, member, force)
	return u.rep, err
}

func (u *unjoiner) unjoin(ctx context.Context, member *rest.Config, force bool) error {
	uses, err := findUses(ctx, u.hub, u.name, u.timeout)
	if err != nil {
		return err
	}
	u.rep.Uses = uses
	if len(uses) > 0 && !force {
		return &InUseError{Cluster: u.name, Uses: uses}
	}
	for _, use := range uses {
		u.log.Info("Still in use; removing anyway", "service", use.String())
	}
	mc, err := u.memberCluster(ctx)
	if err != nil {
		return err
	}
	// Reach the member before deleting anything, so that a configuration
	// of the wrong cluster is refused while everything is still in place.
	var mcl client.Client
	unreachable := "no member configuration was given"
	if member != nil {
		mcl, unreachable, err = u.reachMember(ctx, member, mc)
		if err != nil {
			return err
		}
	}
	if err := u.deleteHub(ctx, mc); err != nil {
		return err
	}
	if mcl == nil {
		u.leaveMember(unreachable)
		return nil
	}
	u.workloads(ctx, mcl)
	return u.cleanMember(ctx, mcl)
}

// memberCluster gets the MemberCluster, nil when there is none.
func (u *unjoiner) memberCluster(ctx context.Context) (*v1alpha1.MemberCluster, error) {
	var mc v1alpha1.MemberCluster
	err := call(ctx, u.timeout, func(ctx context.Context) error {
		return u.hub.Get(ctx, client.ObjectKey{Name: u.name}, &mc)
	})
	if apierrors.IsNotFound(err) {
		u.log.Info("No MemberCluster; cleaning up what is left", "in", string(SideHub))
		return nil, nil
	}
	if err != nil {
		return nil, hubError("get MemberCluster "+u.name, err)
	}
	return &mc, nil
}

// reachMember returns a client of the member, or nil and the reason when
// the member cannot be reached. It fails when the member is another cluster
// than mc stands for, or is joined under another name.
func (u *unjoiner) reachMember(ctx context.Context, member *rest.Config, mc *v1alpha1.MemberCluster) (client.Client, string, error) {
	c, err := client.New(member, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return nil, fmt.Sprintf("no client for %s: %v", memberServer(member), err), nil
	}
	id, err := clusterID(ctx, c, u.timeout)
	if err != nil {
		u.log.Info("Member not reachable", "server", memberServer(member), "error", err.Error())
		return nil, fmt.Sprintf("the member %s was not reachable: %v", memberServer(member), err), nil
	}
	if mc != nil {
		if want := mc.Annotations[AnnotationClusterID]; want != "" && want != id {
			return nil, "", fmt.Errorf("%w: %s is cluster %s, MemberCluster %s is cluster %s; nothing was deleted",
				ErrWrongCluster, memberServer(member), id, u.name, want)
		}
	}
	owner, err := namespaceOwner(ctx, c, u.timeout)
	if err != nil {
		return nil, "", err
	}
	if owner != "" && owner != u.name {
		return nil, "", fmt.Errorf("%w: %s is joined as %q, not %q; nothing was deleted", ErrJoinedElsewhere, memberServer(member), owner, u.name)
	}
	return c, "", nil
}
