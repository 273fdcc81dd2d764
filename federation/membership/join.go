package membership

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Errors Join returns when a name or a cluster is already taken; check them
// with errors.Is.
var (
	// ErrNameTaken: a MemberCluster of that name already stands for another
	// cluster (its fedstate.io/cluster-id differs).
	ErrNameTaken = errors.New("membership: MemberCluster name already used by another cluster")
	// ErrJoinedElsewhere: the member cluster is already joined under another
	// name.
	ErrJoinedElsewhere = errors.New("membership: cluster already joined under another name")
)

// joiner carries what one Join needs; it lives for one call.
type joiner struct {
	opts   Options
	hub    client.Client
	member client.Client
	cfg    *rest.Config
	log    logr.Logger
	res    Result
}

// Join makes the member cluster ready for the hub and registers it there
// (see the package documentation for what it creates where). It validates
// opts first and looks at both clusters before it changes anything, so bad
// input or a name clash (ErrNameTaken, ErrJoinedElsewhere) creates nothing.
// Running it again converges: it changes only what differs, keeps the
// token, and leaves fields it does not own (the MemberCluster's taints)
// alone.
//
// hub must know the core Kubernetes types and fedstate.io/v1alpha1; member
// needs rights to create namespaces, ServiceAccounts, Secrets and RBAC
// objects. Only the URL and certificate authority of member go into the
// hub's kubeconfig, never its credentials. Join blocks until the new
// credentials are authorised in the member or opts.ReadyTimeout passes.
func Join(ctx context.Context, hub client.Client, member *rest.Config, opts Options) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	if hub == nil || member == nil {
		return Result{}, errors.New("membership: Join needs a hub client and a member configuration")
	}
	if err := checkHubScheme(hub); err != nil {
		return Result{}, err
	}
	mc, err := client.New(member, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return Result{}, fmt.Errorf("member client: %w", err)
	}
	j := &joiner{
		opts: opts.withDefaults(), hub: hub, member: mc, cfg: member,
		log: logr.FromContextOrDiscard(ctx).WithValues("cluster", opts.Name),
		res: Result{Name: opts.Name, Server: memberServer(member)},
	}
	return j.join(ctx)
}

func (j *joiner) join(ctx context.Context) (Result, error) {
	// Look first: nothing is created when the name or the cluster is taken.
	id, err := j.clusterID(ctx)
	if err != nil {
		return j.res, err
	}
	j.res.ClusterID = id
	if err := j.checkMember(ctx); err != nil {
		return j.res, err
	}
	if err := j.checkHub(ctx, id); err != nil {
		return j.res, err
	}
	j.log.Info("Joining", "server", j.res.Server, "clusterID", id)

	token, err := j.ensureMember(ctx)
	if err != nil {
		return j.res, err
	}
	kubeconfig, err := hubKubeconfig(j.opts.Name, j.cfg, token)
	if err != nil {
		return j.res, err
	}
	if err := j.waitAuthorized(ctx, kubeconfig); err != nil {
		return j.res, err
	}
	if err := j.ensureHub(ctx, kubeconfig, id); err != nil {
		return j.res, err
	}
	j.log.Info("Joined", "changed", j.res.Changed())
	return j.res, nil
}

// ensure creates obj in c or updates it with mutate, records what happened
// and logs it.
func (j *joiner) ensure(ctx context.Context, c client.Client, side Side, kind string, obj client.Object, mutate func() error) error {
	ref := ObjectRef{Side: side, Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	var op controllerutil.OperationResult
	err := call(ctx, j.opts.CallTimeout, func(ctx context.Context) error {
		var err error
		op, err = controllerutil.CreateOrUpdate(ctx, c, obj, mutate)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %s: %w", side, ref, err)
	}
	res := ObjectResult{ObjectRef: ref, Operation: Unchanged}
	switch op {
	case controllerutil.OperationResultCreated:
		res.Operation = Created
	case controllerutil.OperationResultUpdated:
		res.Operation = Updated
	}
	j.res.Objects = append(j.res.Objects, res)
	j.log.Info(capitalize(string(res.Operation)), "in", string(side), "object", ref.String())
	return nil
}

// capitalize upper-cases the first letter of an ASCII word.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
