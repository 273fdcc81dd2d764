package members

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// testCA is a PEM self-signed certificate, as a kubeconfig embeds it.
func testCA(t testing.TB) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// kubeconfigBytes serialises a one-context kubeconfig after edit changed it.
func kubeconfigBytes(t testing.TB, ca []byte, edit func(*clientcmdapi.Config)) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["m"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: ca}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "secret-token"}
	cfg.Contexts["m"] = &clientcmdapi.Context{Cluster: "m", AuthInfo: "u"}
	cfg.CurrentContext = "m"
	if edit != nil {
		edit(cfg)
	}
	raw, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParseKubeconfig(t *testing.T) {
	ca := testCA(t)
	tests := []struct {
		name    string
		data    map[string][]byte
		key     string
		wantErr string // empty: valid
	}{
		{name: "valid", data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, nil)}, key: "kubeconfig"},
		{name: "other key", data: map[string][]byte{"config": kubeconfigBytes(t, ca, nil)}, key: "config"},
		{name: "only context, none current", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) { c.CurrentContext = "" })}},
		{name: "missing key", data: map[string][]byte{"other": []byte("x")}, key: "kubeconfig", wantErr: `no key "kubeconfig"`},
		{name: "empty", data: map[string][]byte{"kubeconfig": nil}, key: "kubeconfig", wantErr: "is empty"},
		{name: "garbage", data: map[string][]byte{"kubeconfig": []byte("{{{ not yaml")}, key: "kubeconfig", wantErr: "parse kubeconfig"},
		{name: "yaml but no contexts", data: map[string][]byte{"kubeconfig": []byte("apiVersion: v1\nkind: Config\n")}, key: "kubeconfig", wantErr: "0 contexts"},
		{name: "dangling current context", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) { c.CurrentContext = "gone" })}, wantErr: `"gone" does not exist`},
		{name: "no server", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) { c.Clusters["m"].Server = "" })}, wantErr: "no server"},
		{name: "bad CA", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, []byte("not a certificate"), nil)}, wantErr: "TLS"},
		{name: "CA file", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, nil, func(c *clientcmdapi.Config) { c.Clusters["m"].CertificateAuthority = "/etc/ca.crt" })}, wantErr: "certificate-authority points at a file"},
		{name: "token file", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) { c.AuthInfos["u"].TokenFile = "/var/run/token" })}, wantErr: "tokenFile"},
		{name: "client key file", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) { c.AuthInfos["u"].ClientKey = "/root/key" })}, wantErr: "client-key"},
		{name: "exec plugin", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) {
				c.AuthInfos["u"].Exec = &clientcmdapi.ExecConfig{Command: "sh", APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode}
			})}, wantErr: "exec credential plugins"},
		{name: "missing user", key: "kubeconfig",
			data: map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) { delete(c.AuthInfos, "u") })}, wantErr: "no existing user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, hash, err := parseKubeconfig(tt.data, tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseKubeconfig = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseKubeconfig: %v", err)
			}
			if rc.Host != "https://127.0.0.1:6443" || rc.BearerToken != "secret-token" || len(hash) != 64 {
				t.Errorf("got host %q token %q hash %q", rc.Host, rc.BearerToken, hash)
			}
		})
	}
}

func TestParseKubeconfigHashFollowsContent(t *testing.T) {
	ca := testCA(t)
	a := map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, nil)}
	b := map[string][]byte{"kubeconfig": kubeconfigBytes(t, ca, func(c *clientcmdapi.Config) { c.AuthInfos["u"].Token = "rotated" })}
	_, ha, errA := parseKubeconfig(a, "kubeconfig")
	_, ha2, errA2 := parseKubeconfig(a, "kubeconfig")
	_, hb, errB := parseKubeconfig(b, "kubeconfig")
	if errA != nil || errA2 != nil || errB != nil {
		t.Fatal(errA, errA2, errB)
	}
	if ha != ha2 || ha == hb {
		t.Errorf("hashes: same content %s/%s, rotated token %s", ha, ha2, hb)
	}
}

// FuzzParseKubeconfig checks that no Secret content makes the parser panic,
// and that whatever it accepts is a usable, self-contained client
// configuration.
func FuzzParseKubeconfig(f *testing.F) {
	ca := testCA(f)
	f.Add(kubeconfigBytes(f, ca, nil))
	f.Add(kubeconfigBytes(f, ca, func(c *clientcmdapi.Config) { c.CurrentContext = "" }))
	f.Add(kubeconfigBytes(f, nil, func(c *clientcmdapi.Config) { c.Clusters["m"].InsecureSkipTLSVerify = true }))
	f.Add(kubeconfigBytes(f, ca, func(c *clientcmdapi.Config) { c.AuthInfos["u"].TokenFile = "/t" }))
	f.Add([]byte("apiVersion: v1\nkind: Config\nclusters: [{name: a, cluster: {server: 'http://x'}}]\n" +
		"users: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: a, user: u}}]\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Config","current-context":"x"}`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rc, hash, err := parseKubeconfig(map[string][]byte{"kubeconfig": raw}, "kubeconfig")
		if err != nil {
			return
		}
		if rc.Host == "" || len(hash) != 64 {
			t.Fatalf("accepted a config with host %q hash %q", rc.Host, hash)
		}
		if rc.ExecProvider != nil || rc.AuthProvider != nil || rc.BearerTokenFile != "" ||
			rc.CAFile != "" || rc.CertFile != "" || rc.KeyFile != "" {
			t.Fatalf("accepted a config that refers to files or plugins: %+v", rc)
		}
	})
}
