package testbed

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"k8s.io/client-go/tools/clientcmd"
)

// startEtcd starts the etcd all API servers share and waits until it is
// healthy.
func (b *Bed) startEtcd(ctx context.Context) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(b.state.Dir, "etcd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	clientURL := "http://127.0.0.1:" + itoa(client)
	peerURL := "http://127.0.0.1:" + itoa(peer)
	b.state.EtcdURL = clientURL
	b.state.Etcd = Process{
		Name: "etcd",
		Path: b.state.Binaries.Etcd,
		Args: []string{
			"--name=testbed", "--data-dir=" + filepath.Join(dir, "data"),
			"--listen-client-urls=" + clientURL, "--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=testbed=" + peerURL,
			// A test bed keeps nothing worth an fsync; skipping it makes
			// API writes several times faster on shared disks.
			"--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=4294967296",
		},
		Log: filepath.Join(dir, "etcd.log"),
	}
	if err := b.sup.start(&b.state.Etcd); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "testbed: etcd %s on %s\n", EtcdVersion, clientURL)
	return poll(ctx, b.readyTimeout, "etcd "+clientURL, func() (bool, error) {
		if !b.sup.running(&b.state.Etcd) {
			return false, fmt.Errorf("etcd exited; see %s", b.state.Etcd.Log)
		}
		return httpOK(ctx, http.DefaultClient, clientURL+"/health", ""), nil
	})
}

// prepareCluster makes the cluster's folder, keys and token and describes
// its processes; index 0 is the hub.
func (b *Bed) prepareCluster(m MemberSpec, index int) (Cluster, error) {
	dir := filepath.Join(b.state.Dir, m.Name)
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o700); err != nil {
		return Cluster{}, err
	}
	port, err := freePort()
	if err != nil {
		return Cluster{}, err
	}
	saKey := filepath.Join(dir, "sa.key")
	if err := writeRSAKey(saKey); err != nil {
		return Cluster{}, err
	}
	token, err := randomHex(16)
	if err != nil {
		return Cluster{}, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return Cluster{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600); err != nil {
		return Cluster{}, err
	}
	c := Cluster{
		Name:       m.Name,
		Hub:        index == 0,
		Region:     m.Region,
		Zone:       m.Zone,
		Server:     "https://127.0.0.1:" + itoa(port),
		Kubeconfig: filepath.Join(dir, "kubeconfig"),
	}
	bins := b.state.Binaries
	caFile := filepath.Join(dir, "certs", "apiserver.crt")
	proc := func(name, path string, args ...string) Process {
		return Process{Name: m.Name + "/" + name, Path: path, Args: args, Log: filepath.Join(dir, name+".log")}
	}
	c.Processes = append(c.Processes,
		proc("kube-apiserver", bins.KubeAPIServer,
			"--etcd-servers="+b.state.EtcdURL, "--etcd-prefix=/clusters/"+m.Name,
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+itoa(port),
			"--endpoint-reconciler-type=none",
			// The API server writes a self-signed serving certificate here
			// on its first start and reuses it after a restart.
			"--cert-dir="+filepath.Join(dir, "certs"),
			"--service-account-issuer=https://"+m.Name+".testbed.fedstate.local",
			"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
			"--token-auth-file="+tokens, "--authorization-mode=RBAC",
			"--service-cluster-ip-range=10.96.0.0/16"),
		proc("kube-controller-manager", bins.KubeControllerManager,
			"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--secure-port=0",
			"--service-account-private-key-file="+saKey, "--root-ca-file="+caFile,
			"--use-service-account-credentials=true",
			// The defaults (20 requests/s, 5 StatefulSet workers) make the
			// members, not the hub, the bottleneck of make bench-hub.
			"--kube-api-qps=100", "--kube-api-burst=200", "--concurrent-statefulset-syncs=10"),
	)
	if c.Hub {
		return c, nil
	}
	// Pod IPs come from 127.<10+index>.0.0/16: loopback addresses that
	// answer on this machine, one /16 per member.
	c.PodCIDR = podCIDR(b.state.PodNet, index)
	c.Processes = append(c.Processes,
		proc("kube-scheduler", bins.KubeScheduler,
			"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--secure-port=0"),
		proc("kwok", bins.Kwok,
			"--kubeconfig="+c.Kubeconfig, "--config="+bins.KwokStages,
			"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
			"--node-lease-duration-seconds=40", "--node-ip=127.0.0.1",
			fmt.Sprintf("--cidr=127.%d.0.1/16", 10+index)),
	)
	return c, nil
}

// waitAPIServer waits until the cluster's API server answers /readyz.
func (b *Bed) waitAPIServer(ctx context.Context, c *Cluster) error {
	dir := filepath.Join(b.state.Dir, c.Name)
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return err
	}
	// The serving certificate is self-signed and only known once the
	// server wrote it; readiness is all this probe checks.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	return poll(ctx, b.readyTimeout, c.Name+" kube-apiserver", func() (bool, error) {
		if !b.sup.running(&c.Processes[0]) {
			return false, fmt.Errorf("%s exited; see %s", c.Processes[0].Name, c.Processes[0].Log)
		}
		return httpOK(ctx, client, c.Server+"/readyz", string(token)), nil
	})
}

// writeKubeconfig writes the cluster's admin kubeconfig, trusting the
// serving certificate the API server generated.
func writeKubeconfig(c *Cluster, dir string) error {
	ca, err := os.ReadFile(filepath.Join(dir, "certs", "apiserver.crt"))
	if err != nil {
		return fmt.Errorf("read serving certificate of %s: %w", c.Name, err)
	}
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: ca}
	cfg.AuthInfos[c.Name+"-admin"] = &clientcmdapi.AuthInfo{Token: string(token)}
	cfg.Contexts[c.Name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: c.Name + "-admin"}
	cfg.CurrentContext = c.Name
	return clientcmd.WriteToFile(*cfg, c.Kubeconfig)
}

// poll calls check every 100 ms until it reports done, fails, or timeout
// passes.
func poll(ctx context.Context, timeout time.Duration, what string, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testbed: %s not ready after %s: %w", what, timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// httpOK reports whether GET url answers 200 within a second.
func httpOK(ctx context.Context, client *http.Client, url, token string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func writeRSAKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
