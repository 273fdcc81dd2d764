package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/membership"
)

// kubeconfigFlags choose a cluster the way kubectl does: a kubeconfig file
// and a context in it.
type kubeconfigFlags struct {
	path    string
	context string
}

// addHub adds --hub-kubeconfig and --hub-context to cmd.
func (f *kubeconfigFlags) addHub(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.path, "hub-kubeconfig", "",
		"kubeconfig of the hub cluster; default $KUBECONFIG, else ~/.kube/config, as with kubectl")
	cmd.Flags().StringVar(&f.context, "hub-context", "",
		"context of the hub kubeconfig to use; default its current context")
}

// load reads the REST configuration. With no path it follows kubectl's
// rules ($KUBECONFIG, then ~/.kube/config); flag names the flag in errors.
func (f *kubeconfigFlags) load(flag string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	where := "--" + flag + " " + f.path
	if f.path != "" {
		rules.ExplicitPath = f.path
	} else {
		where = "--" + flag + " (default $KUBECONFIG or ~/.kube/config)"
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: f.context}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, fmt.Errorf("%s: no kubeconfig found: pass the flag or set $KUBECONFIG", where)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return cfg, nil
}

// hubClient is a client of the hub that knows the core and fedstate.io
// types.
func hubClient(cfg *rest.Config) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("hub client: %w", err)
	}
	return c, nil
}

// flagNames maps membership.Options fields to the command line.
var flagNames = map[string]string{"name": "NAME", "region": "--region", "zone": "--zone"}

// argumentErrors turns bad options into lines that name the argument or
// flag; other errors pass through.
func argumentErrors(err error) []string {
	var inv *membership.InvalidOptionsError
	if !errors.As(err, &inv) {
		return []string{err.Error()}
	}
	var lines []string
	for _, f := range inv.Fields {
		name := flagNames[f.Field]
		if name == "" {
			name = f.Field
		}
		lines = append(lines, fmt.Sprintf("%s %q: %s", name, f.Value, f.Reason))
	}
	return lines
}

// invalidArguments is one error listing every bad argument.
func invalidArguments(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("invalid arguments:\n  %s", strings.Join(lines, "\n  "))
}
