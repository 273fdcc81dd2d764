package members

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultKubeconfigKey is the key of the kubeconfig in a member's Secret
// when the MemberCluster names none.
const DefaultKubeconfigKey = "kubeconfig"

// parseKubeconfig reads the kubeconfig under key in a Secret's data and
// returns the client configuration of its current context (or of its only
// context) and a digest of the raw bytes, which changes whenever the Secret's
// kubeconfig does.
//
// A kubeconfig from a Secret must be self-contained: it may not point at
// files (certificate, key, token) or run programs (exec and auth-provider
// plugins), which would read or run things on the hub's own machine. It
// does no I/O.
func parseKubeconfig(data map[string][]byte, key string) (*rest.Config, string, error) {
	raw, ok := data[key]
	if !ok {
		return nil, "", fmt.Errorf("the Secret has no key %q", key)
	}
	if len(raw) == 0 {
		return nil, "", fmt.Errorf("key %q of the Secret is empty", key)
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return nil, "", fmt.Errorf("parse kubeconfig: %w", err)
	}
	name, err := contextName(cfg)
	if err != nil {
		return nil, "", err
	}
	if err := selfContained(cfg, name); err != nil {
		return nil, "", err
	}
	rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig context %q: %w", name, err)
	}
	if rc.Host == "" {
		return nil, "", fmt.Errorf("kubeconfig context %q: no server", name)
	}
	if _, err := rest.TLSConfigFor(rc); err != nil {
		return nil, "", fmt.Errorf("kubeconfig context %q: TLS: %w", name, err)
	}
	sum := sha256.Sum256(raw)
	return rc, hex.EncodeToString(sum[:]), nil
}

// contextName is the context to use: the current one, else the only one.
func contextName(cfg *clientcmdapi.Config) (string, error) {
	if cfg.CurrentContext != "" {
		if _, ok := cfg.Contexts[cfg.CurrentContext]; !ok {
			return "", fmt.Errorf("kubeconfig: current context %q does not exist", cfg.CurrentContext)
		}
		return cfg.CurrentContext, nil
	}
	if len(cfg.Contexts) != 1 {
		return "", fmt.Errorf("kubeconfig: no current context and %d contexts", len(cfg.Contexts))
	}
	var only string
	for name := range cfg.Contexts {
		only = name
	}
	return only, nil
}

// selfContained rejects a context whose cluster or user refers to files or
// programs of the machine that reads it.
func selfContained(cfg *clientcmdapi.Config, name string) error {
	ctx := cfg.Contexts[name]
	if ctx == nil {
		return fmt.Errorf("kubeconfig: context %q is empty", name)
	}
	var errs []error
	if c := cfg.Clusters[ctx.Cluster]; c == nil {
		errs = append(errs, fmt.Errorf("kubeconfig: context %q names no existing cluster (%q)", name, ctx.Cluster))
	} else if c.CertificateAuthority != "" {
		errs = append(errs, errors.New("kubeconfig: certificate-authority points at a file; embed certificate-authority-data"))
	}
	u := cfg.AuthInfos[ctx.AuthInfo]
	if u == nil {
		return errors.Join(append(errs, fmt.Errorf("kubeconfig: context %q names no existing user (%q)", name, ctx.AuthInfo))...)
	}
	if u.ClientCertificate != "" || u.ClientKey != "" {
		errs = append(errs, errors.New("kubeconfig: client-certificate or client-key points at a file; embed the -data fields"))
	}
	if u.TokenFile != "" {
		errs = append(errs, errors.New("kubeconfig: tokenFile points at a file; embed the token"))
	}
	if u.Exec != nil {
		errs = append(errs, errors.New("kubeconfig: exec credential plugins are not allowed"))
	}
	if u.AuthProvider != nil {
		errs = append(errs, errors.New("kubeconfig: auth-provider plugins are not allowed"))
	}
	return errors.Join(errs...)
}
