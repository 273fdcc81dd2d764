package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedstate/fedstate/e2e/testbed"
)

// rolesPKI is a CA with a serving certificate for 127.0.0.1 and one
// client certificate per common name, as PEM files.
type rolesPKI struct {
	ca                    string
	serverCert, serverKey string
	cert, key             map[string]string // by common name
}

// newRolesPKI makes a CA and client certificates for names.
func newRolesPKI(t *testing.T, names ...string) rolesPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := ecKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fedstate federation etcd CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := rolesPKI{ca: pemFile(t, dir, "ca.pem", "CERTIFICATE", caDER), cert: map[string]string{}, key: map[string]string{}}
	issue := func(file, cn string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key := ecKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pemFile(t, dir, file+".pem", "CERTIFICATE", der), pemFile(t, dir, file+"-key.pem", "EC PRIVATE KEY", kb)
	}
	p.serverCert, p.serverKey = issue("server", "etcd", 2, x509.ExtKeyUsageServerAuth)
	for i, n := range names {
		p.cert[n], p.key[n] = issue("client-"+n, n, int64(3+i), x509.ExtKeyUsageClientAuth)
	}
	return p
}

// pool returns the CA as a certificate pool.
func (p rolesPKI) pool(t *testing.T) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(p.ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("no CA certificate in", p.ca)
	}
	return pool
}

// pair returns the client certificate of name.
func (p rolesPKI) pair(t *testing.T, name string) tls.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(p.cert[name], p.key[name])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemFile(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startTLSEtcdBinary runs the test bed's etcd binary serving clients over
// TLS with --client-cert-auth and p's CA, as docs/security.md says to run
// it; it returns the client URL. The process is killed when the test ends.
func startTLSEtcdBinary(t *testing.T, p rolesPKI) string {
	t.Helper()
	bins, err := testbed.Build(t.Context(), testbed.BuildConfig{CacheDir: testbed.DefaultCacheDir(), Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	client, peer := "https://"+freeAddr(t), "http://"+freeAddr(t)
	log, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bins.Etcd, "--name=auth", "--data-dir="+filepath.Join(dir, "data"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer, "--initial-cluster=auth="+peer,
		"--client-cert-auth", "--trusted-ca-file="+p.ca, "--cert-file="+p.serverCert, "--key-file="+p.serverKey,
		"--unsafe-no-fsync", "--log-level=warn")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// Ready once a client with a certificate of the CA gets an answer.
	cli := clientAs(t, client, p, "root")
	poll(t, 30*time.Second, func() error {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("etcd exited: %v\n%s", err, b)
		default:
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := cli.Get(ctx, "health")
		return err
	})
	return client
}
