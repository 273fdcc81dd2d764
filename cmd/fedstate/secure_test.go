package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCheckEtcdTransport(t *testing.T) {
	tests := []struct {
		name          string
		endpoints     []string
		cert          string
		insecureLocal bool
		want          []string // substrings of the error; none: accepted
	}{
		{name: "TLS with a client certificate", endpoints: []string{"https://etcd-0:2379", "https://etcd-1:2379"}, cert: "c.pem"},
		{name: "embedded", want: []string{"embedded federation etcd serves plaintext", "--etcd-cert", "--insecure-local"}},
		{name: "embedded on one machine", insecureLocal: true},
		{name: "plaintext", endpoints: []string{"https://etcd-0:2379", "http://etcd-1:2379"}, cert: "c.pem",
			want: []string{"http://etcd-1:2379: plaintext", "--insecure-local"}},
		{name: "no scheme is plaintext", endpoints: []string{"etcd-0:2379"}, cert: "c.pem", want: []string{"etcd-0:2379: plaintext"}},
		{name: "no client certificate", endpoints: []string{"https://etcd-0:2379"},
			want: []string{"no client certificate (--etcd-cert, --etcd-key)", "--insecure-local"}},
		{name: "plaintext on one machine", endpoints: []string{"http://127.0.0.1:2379"}, insecureLocal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEtcdTransport(tc.endpoints, tc.cert, tc.insecureLocal)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v\ndoes not mention %q", err, w)
				}
			}
		})
	}
}

// TestComponentsRefusePlaintext runs fedstate hub and fedstate agent as
// the command line does, without --insecure-local: both refuse to start
// before they connect to anything, and say what to give instead.
func TestComponentsRefusePlaintext(t *testing.T) {
	tlsFlags := []string{"--etcd-endpoints", "https://etcd-0:2379", "--etcd-ca", "ca.pem", "--etcd-cert", "c.pem", "--etcd-key", "k.pem"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "hub with the embedded etcd", args: []string{"hub"},
			want: []string{"embedded federation etcd serves plaintext on loopback", "--insecure-local"}},
		{name: "hub with a plaintext etcd", args: []string{"hub", "--etcd-endpoints", "http://127.0.0.1:2379"},
			want: []string{"http://127.0.0.1:2379: plaintext", "no client certificate", "--insecure-local"}},
		{name: "agent with a plaintext etcd", args: []string{"agent", "--cluster", "eu-1"},
			want: []string{"http://127.0.0.1:2379: plaintext", "--etcd-cert", "--insecure-local"}},
		{name: "agent with unencrypted gossip", args: append([]string{"agent", "--cluster", "eu-1", "--gossip-join", "127.0.0.1:7946", "--gossip-insecure"}, tlsFlags...),
			want: []string{"--gossip-insecure sends gossip in the clear", "--gossip-keyring", "--insecure-local"}},
		{name: "dns with a plaintext etcd", args: []string{"dns"},
			want: []string{"http://127.0.0.1:2379: plaintext", "--insecure-local"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newRootCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tc.args)
			err := cmd.ExecuteContext(t.Context())
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v\ndoes not mention %q", err, w)
				}
			}
		})
	}
}
