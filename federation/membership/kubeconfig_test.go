package membership

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// TestHubKubeconfigCarriesNoCallerCredentials: whatever the caller
// authenticates with, only the server, its certificate authority and the
// hub's token reach the hub.
func TestHubKubeconfigCarriesNoCallerCredentials(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, []byte("CA FROM FILE"), 0o600); err != nil {
		t.Fatal(err)
	}
	caller := &rest.Config{
		Host:        "member.example:6443",
		BearerToken: "caller-token",
		Username:    "admin", Password: "secret",
		Impersonate:  rest.ImpersonationConfig{UserName: "root"},
		ExecProvider: &clientcmdapi.ExecConfig{Command: "get-credentials", APIVersion: "client.authentication.k8s.io/v1"},
		TLSClientConfig: rest.TLSClientConfig{
			CAFile: caFile, ServerName: "api.member.example",
			CertData: []byte("CALLER CERT"), KeyData: []byte("CALLER KEY"),
		},
	}
	raw, err := hubKubeconfig("eu-1", caller, []byte("hub-token"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"caller-token", "admin", "secret", "root", "get-credentials", "CALLER"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("kubeconfig contains the caller's %q:\n%s", secret, raw)
		}
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Clusters["eu-1"]
	if c == nil || c.Server != "https://member.example:6443" || string(c.CertificateAuthorityData) != "CA FROM FILE" || c.TLSServerName != "api.member.example" {
		t.Errorf("cluster = %+v, want the member's server, CA from file and server name", c)
	}
	if u := cfg.AuthInfos[ServiceAccountName]; u == nil || u.Token != "hub-token" {
		t.Errorf("user = %+v, want the hub's token", u)
	}
	if cfg.CurrentContext != "eu-1" {
		t.Errorf("current context %q, want eu-1", cfg.CurrentContext)
	}
}
