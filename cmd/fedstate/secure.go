package main

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// insecureLocalUsage is the help text of --insecure-local common to
// every component.
const insecureLocalUsage = "allow plaintext to the federation etcd (http:// to loopback, no client certificate), " +
	"for a federation on one machine only (the README's test bed, the end-to-end tests)"

// checkEtcdTransport refuses a federation etcd connection that is not TLS
// with a client certificate, unless insecureLocal. endpoints empty means
// the hub's embedded etcd, which serves plaintext on loopback. The error
// names --insecure-local and what to give instead.
func checkEtcdTransport(endpoints []string, certFile string, insecureLocal bool) error {
	if insecureLocal {
		return nil
	}
	const tls = "give https:// --etcd-endpoints with --etcd-ca, --etcd-cert and --etcd-key (docs/security.md)"
	if len(endpoints) == 0 {
		return fmt.Errorf("the embedded federation etcd serves plaintext on loopback: %s, "+
			"or --insecure-local for a federation on this machine only", tls)
	}
	var plain []string
	for _, ep := range endpoints {
		if u, err := url.Parse(ep); err != nil || u.Scheme != "https" {
			plain = append(plain, ep)
		}
	}
	var errs []error
	if len(plain) > 0 {
		errs = append(errs, fmt.Errorf("federation etcd %s: plaintext", strings.Join(plain, ",")))
	}
	if certFile == "" {
		errs = append(errs, errors.New("federation etcd: no client certificate (--etcd-cert, --etcd-key)"))
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("%s, or --insecure-local for a federation on this machine only", tls))
	}
	return errors.Join(errs...)
}

// checkGossipTransport refuses an unencrypted gossip pool unless
// insecureLocal.
func checkGossipTransport(unencrypted, insecureLocal bool) error {
	if unencrypted && !insecureLocal {
		return errors.New("--gossip-insecure sends gossip in the clear: give --gossip-keyring FILE " +
			"(base64 AES keys, one a line, primary first; docs/security.md), or --insecure-local for a federation on this machine only")
	}
	return nil
}

// plaintextLoopbackOnly checks etcd client URLs as replication/coord does
// for the hub and the agents: http:// or https:// with a host, and
// plaintext to loopback only, since --insecure-local is for one machine.
func plaintextLoopbackOnly(endpoints []string) error {
	var errs []error
	for _, ep := range endpoints {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			errs = append(errs, fmt.Errorf("federation etcd %q: not an http:// or https:// URL with a host", ep))
			continue
		}
		host := u.Hostname()
		if ip, err := netip.ParseAddr(host); u.Scheme == "http" && (err != nil || !ip.IsLoopback()) && !strings.EqualFold(host, "localhost") {
			errs = append(errs, fmt.Errorf("federation etcd %s: plaintext to a host other than loopback; use https://", ep))
		}
	}
	return errors.Join(errs...)
}
