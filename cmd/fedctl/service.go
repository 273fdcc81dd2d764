package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// serviceFlags name one FederatedStatefulSet in the hub: the hub's
// kubeconfig and the namespace of a SERVICE argument without one. fedctl
// status, switchover and failover share them.
type serviceFlags struct {
	hub       kubeconfigFlags
	namespace string
}

// add adds -n/--namespace, --hub-kubeconfig and --hub-context to cmd.
func (f *serviceFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "default", "namespace of the service, unless SERVICE is NAMESPACE/NAME")
	f.hub.addHub(cmd)
}

// connect reads the SERVICE argument and builds a client of the hub. Bad
// arguments come back as one invalidArguments error.
func (f *serviceFlags) connect(arg string) (client.Client, client.ObjectKey, error) {
	key, err := serviceKey(arg, f.namespace)
	if err != nil {
		return nil, client.ObjectKey{}, invalidArguments([]string{err.Error()})
	}
	cfg, err := f.hub.load("hub-kubeconfig")
	if err != nil {
		return nil, client.ObjectKey{}, invalidArguments([]string{err.Error()})
	}
	hub, err := hubClient(cfg)
	if err != nil {
		return nil, client.ObjectKey{}, err
	}
	return hub, key, nil
}

// serviceKey reads SERVICE: NAME in the namespace flag, or NAMESPACE/NAME.
func serviceKey(arg, namespace string) (client.ObjectKey, error) {
	ns, name, found := strings.Cut(arg, "/")
	if !found {
		ns, name = namespace, arg
	}
	if ns == "" || name == "" || strings.Contains(name, "/") {
		return client.ObjectKey{}, fmt.Errorf("SERVICE %q: want NAME or NAMESPACE/NAME", arg)
	}
	return client.ObjectKey{Namespace: ns, Name: name}, nil
}

// getService reads the FederatedStatefulSet key; a missing one is an error
// that names it.
func getService(ctx context.Context, hub client.Reader, key client.ObjectKey) (*v1alpha1.FederatedStatefulSet, error) {
	var fss v1alpha1.FederatedStatefulSet
	if err := hub.Get(ctx, key, &fss); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("no FederatedStatefulSet %s", key)
		}
		return nil, fmt.Errorf("get FederatedStatefulSet %s: %w", key, err)
	}
	return &fss, nil
}
