package membership

import (
	"fmt"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// memberServer is the URL of the member's API server as the caller reaches
// it, with a scheme.
func memberServer(member *rest.Config) string {
	host := strings.TrimSuffix(member.Host, "/")
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	return host
}

// hubKubeconfig builds the kubeconfig the hub reaches the member with: the
// member's server URL, the certificate authority the caller trusts for it,
// and the hub's token. Nothing else of the caller's configuration (client
// certificates, tokens, exec plugins, impersonation) is copied.
func hubKubeconfig(name string, member *rest.Config, token []byte) ([]byte, error) {
	tls := rest.CopyConfig(member)
	// Reads CAFile into CAData (and the caller's key files, which are
	// dropped below).
	if err := rest.LoadTLSFiles(tls); err != nil {
		return nil, fmt.Errorf("read the member's certificate authority: %w", err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   memberServer(member),
		CertificateAuthorityData: tls.CAData,
		TLSServerName:            member.ServerName,
		InsecureSkipTLSVerify:    member.Insecure,
	}
	cfg.AuthInfos[ServiceAccountName] = &clientcmdapi.AuthInfo{Token: string(token)}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: ServiceAccountName}
	cfg.CurrentContext = name
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	return out, nil
}

// restConfigFrom parses a kubeconfig into a REST configuration.
func restConfigFrom(kubeconfig []byte) (*rest.Config, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	return cfg, nil
}
