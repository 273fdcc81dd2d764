// Package hub wires the hub's parts — the member registry, the
// MemberCluster controller and the FederatedStatefulSet controller
// (Setup), the AgentAlive monitor (SetupAgents), and the failover
// coordinator with DNS publishing and the FailoverDrill controller
// (SetupFailover) — into a
// controller-runtime manager, and starts the replica's node of the gossip
// pool (StartGossip, LeaveGossip). fedstate hub and the tests that run a
// hub in-process both use it.
package hub

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/members"
	"github.com/fedstate/fedstate/federation/statefulset"
)

// EventSource is the name the hub records its events under.
const EventSource = "fedstate-hub"

// Scheme knows the built-in kinds and fedstate's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("register built-in kinds: %w", err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("register fedstate kinds: %w", err)
	}
	return s, nil
}

// Setup adds the member registry and the hub's controllers to mgr, whose
// scheme must include Scheme's kinds, and returns the registry. gate ties
// ordinal moves to the replicas' data; nil is statefulset.Immediate.
func Setup(mgr ctrl.Manager, cfg config.Hub, gate statefulset.DataGate) (*members.Registry, error) {
	if gate == nil {
		gate = statefulset.Immediate{}
	}
	recorder := mgr.GetEventRecorder(EventSource)
	registry, err := members.New(cfg.Members, mgr.GetClient(), mgr.GetScheme(), recorder)
	if err != nil {
		return nil, err
	}
	// The reconciler adds the registry to the manager.
	mcr := &members.MemberClusterReconciler{Client: mgr.GetClient(), Registry: registry, Recorder: recorder}
	if err := mcr.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	sr := &statefulset.Reconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Members:         registry,
		MemberEvents:    registry.Events(),
		Gate:            gate,
		Recorder:        recorder,
		DeletionTimeout: cfg.Services.DeletionTimeout,
		Workers:         cfg.Services.Workers,
		Timeout:         cfg.Services.ReconcileTimeout,
	}
	if err := sr.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return registry, nil
}
