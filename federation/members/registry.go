package members

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// LabelService names the FederatedStatefulSet that owns an object in a
// member cluster; see v1alpha1.LabelService.
const LabelService = v1alpha1.LabelService

// Errors of Registry.Client, checked with errors.Is.
var (
	// ErrUnknownMember: no member of that name is connected.
	ErrUnknownMember = errors.New("members: unknown member cluster")
	// ErrUnreachable: the member is connected but its probes fail.
	ErrUnreachable = errors.New("members: member cluster unreachable")
)

// errStopped: the registry's Start returned; nothing connects any more.
var errStopped = errors.New("members: registry stopped")

// eventBuffer is the capacity of the Events channel: room for a burst of
// member changes while the consumer is busy.
const eventBuffer = 1024

// Registry owns the hub's connections to member clusters: one client and
// cache per member, a /readyz probe loop per member that writes the
// member's health into its MemberCluster status, and a stream of events for
// the objects the hub manages in members. Controllers ask it for clients
// and never build their own.
//
// MemberClusterReconciler connects and disconnects members; the registry
// must run as a leader-elected Runnable of the manager
// (MemberClusterReconciler.SetupWithManager adds it). Client, Reachable,
// Capacity and Events are safe for concurrent use and do not block.
type Registry struct {
	cfg      config.Members
	hub      client.Client
	scheme   *runtime.Scheme
	recorder events.EventRecorder
	events   chan event.GenericEvent
	// eventsWanted is set by the first call to Events; until then member
	// changes are not queued, so that a hub without a consumer does not
	// pile them up.
	eventsWanted atomic.Bool
	// running is set by the first Start; started is closed then.
	running atomic.Bool
	started chan struct{}

	mu      sync.Mutex
	stopped bool
	members map[string]*member
}

// New returns a registry that probes members as cfg says. hub is the hub
// cluster's client (the manager's) for MemberCluster status; scheme must
// know the MemberCluster type and the Kubernetes types the registry reads
// in members; recorder emits events on MemberClusters.
func New(cfg config.Members, hub client.Client, scheme *runtime.Scheme, recorder events.EventRecorder) (*Registry, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if hub == nil {
		errs = append(errs, errors.New("members: hub client is nil"))
	}
	if recorder == nil {
		errs = append(errs, errors.New("members: event recorder is nil"))
	}
	if scheme == nil {
		errs = append(errs, errors.New("members: scheme is nil"))
	} else {
		for _, obj := range []runtime.Object{
			&v1alpha1.MemberCluster{}, &appsv1.StatefulSet{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{},
			&corev1.Pod{}, &corev1.Node{}, &storagev1.StorageClass{},
		} {
			if _, _, err := scheme.ObjectKinds(obj); err != nil {
				errs = append(errs, fmt.Errorf("members: scheme: %w", err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Registry{
		cfg: cfg, hub: hub, scheme: scheme, recorder: recorder,
		events:  make(chan event.GenericEvent, eventBuffer),
		started: make(chan struct{}),
		members: map[string]*member{},
	}, nil
}

// Client returns the client of the named member. Reads of StatefulSets,
// Services, PodDisruptionBudgets and Pods (objects and lists) come from the
// member's cache, which holds only objects that carry LabelService: an
// object without the label reads as not found. Other reads, and all writes,
// go to the member's API server. Callers put a deadline on every call.
//
// The error wraps ErrUnknownMember when no such member is connected, and
// ErrUnreachable (with the last probe error) while the member's verdict is
// unreachable or not yet known.
func (r *Registry) Client(name string) (client.Client, error) {
	m := r.lookup(name)
	if m == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownMember, name)
	}
	h := m.health.Load()
	switch {
	case h.reachable():
		return m.client, nil
	case h.LastErr == nil:
		return nil, fmt.Errorf("%w: %s: no probe verdict yet", ErrUnreachable, name)
	default:
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, name, h.LastErr)
	}
}

// LiveReader returns a reader of the named member that always asks its API
// server, for checks that must not trust a cache (a pod about to be
// started elsewhere under the same name). It fails like Client.
func (r *Registry) LiveReader(name string) (client.Reader, error) {
	if _, err := r.Client(name); err != nil {
		return nil, err
	}
	m := r.lookup(name)
	if m == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownMember, name)
	}
	return m.direct, nil
}

// Reachable reports the last probe verdict on the named member: true when
// its API server answers. It is false for an unknown member and before the
// first verdict.
func (r *Registry) Reachable(name string) bool {
	m := r.lookup(name)
	return m != nil && m.health.Load().reachable()
}

// Capacity returns a copy of the named member's capacity as last probed,
// nil if it was never taken or the member is unknown.
func (r *Registry) Capacity(name string) *v1alpha1.ClusterCapacity {
	m := r.lookup(name)
	if m == nil {
		return nil
	}
	return capacityOf(m.health.Load())
}

// Events delivers a GenericEvent for every add, update and delete of a
// StatefulSet, Service, PodDisruptionBudget or Pod carrying LabelService in
// any member. Object is the member's object (shared with the cache: do not
// modify it); its namespace and LabelService value name the owning
// FederatedStatefulSet. A newly connected member replays its objects as
// adds. Use it with source.Channel, set up before the manager starts:
// changes are queued only once Events was called, and then the channel must
// be drained, since the members' informers wait for room.
func (r *Registry) Events() <-chan event.GenericEvent {
	r.eventsWanted.Store(true)
	return r.events
}

// emit queues a member object's change for Events, waiting for room until
// ctx (the member's) ends.
func (r *Registry) emit(ctx context.Context, obj client.Object) {
	if !r.eventsWanted.Load() {
		return
	}
	select {
	case r.events <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
	}
}

// Start runs the registry until ctx ends, then disconnects every member.
// It implements manager.Runnable; a registry starts once.
func (r *Registry) Start(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("members: registry already started (SetupWithManager adds it to the manager)")
	}
	close(r.started)
	<-ctx.Done()
	r.mu.Lock()
	r.stopped = true
	all := r.members
	r.members = map[string]*member{}
	r.mu.Unlock()
	for _, m := range all {
		m.cancel()
	}
	for _, m := range all {
		<-m.done
	}
	return nil
}

// NeedLeaderElection makes the manager start the registry only on the
// leader: only the leader probes members and writes their status.
func (r *Registry) NeedLeaderElection() bool { return true }

func (r *Registry) lookup(name string) *member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.members[name]
}

// connect connects the named member with rc, unless it is already
// connected with the kubeconfig of digest hash; a member connected with
// another kubeconfig is disconnected first. It waits for Start; the
// member's goroutines outlive ctx until disconnect or the end of Start.
func (r *Registry) connect(ctx context.Context, name string, rc *rest.Config, hash string) error {
	select {
	case <-r.started:
	case <-ctx.Done():
		return fmt.Errorf("connect %s: registry not started: %w", name, ctx.Err())
	}
	if m := r.lookup(name); m != nil {
		if m.hash == hash {
			return nil
		}
		if err := r.disconnect(ctx, name); err != nil {
			return err
		}
	}
	log := ctrl.LoggerFrom(ctx).WithValues("member", name)
	m, err := newMember(log, name, rc, hash, r.cfg, r.scheme)
	if err != nil {
		return err
	}
	mctx, cancel := context.WithCancel(ctrl.LoggerInto(context.WithoutCancel(ctx), log))
	m.cancel = cancel
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		cancel()
		return fmt.Errorf("connect %s: %w", name, errStopped)
	}
	r.members[name] = m
	go m.run(mctx, r)
	log.Info("Connected member cluster", "server", rc.Host)
	return nil
}

// disconnect stops the named member's cache, clients and probes and waits
// until they ended (or ctx did). Disconnecting an unknown member is a
// no-op.
func (r *Registry) disconnect(ctx context.Context, name string) error {
	r.mu.Lock()
	m := r.members[name]
	delete(r.members, name)
	r.mu.Unlock()
	if m == nil {
		return nil
	}
	m.cancel()
	select {
	case <-m.done:
	case <-ctx.Done():
		return fmt.Errorf("disconnect %s: %w", name, ctx.Err())
	}
	ctrl.LoggerFrom(ctx).Info("Disconnected member cluster", "member", name)
	return nil
}
