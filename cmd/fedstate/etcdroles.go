package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/replication/coord"
)

// etcdRolesOptions are the flags of fedstate etcd-roles.
type etcdRolesOptions struct {
	etcd   coord.Config
	roles  rolesConfig
	dryRun bool
}

func newEtcdRolesCommand() *cobra.Command {
	o := &etcdRolesOptions{etcd: coord.DefaultConfig(), roles: rolesConfig{
		CoordPrefix: coord.DefaultPrefix, DNSPrefix: dnsserver.DefaultPrefix,
		HubUser: roleHub, DNSUser: roleDNS,
	}}
	cmd := &cobra.Command{
		Use:   "etcd-roles",
		Short: "Create the federation etcd's users and roles, one per component, and enable authentication",
		Long: `fedstate etcd-roles narrows what each component may do in the federation etcd.
It connects as root over TLS (its own --etcd-* flags: a certificate whose
common name is root) and creates, where missing:

  role fedstate-hub          read and write the coordination and DNS prefixes
  role fedstate-agent        read both prefixes; write <etcd-prefix>services/
                             (primary leases and reports)
  role fedstate-agent-<c>    write <etcd-prefix>agents/agent-<c> (the liveness
                             key of the agent of cluster <c>)
  role fedstate-dns          read the DNS prefix
  user root                  role root
  user --hub-user            role fedstate-hub
  user --dns-user            role fedstate-dns
  user agent-<c>             roles fedstate-agent, fedstate-agent-<c>, for
                             every --cluster <c>

Users have no password: etcd run with --client-cert-auth takes the common
name of a client certificate as the user, so each component needs its own
certificate with the user's name as its common name. Then it enables
authentication. From then on only root may change users, roles and
authentication, so run it again (for a new member cluster) with the root
certificate.

It is idempotent: existing roles and users are kept, missing permissions
and roles granted, permissions of these roles that the plan does not hold
(other prefixes) revoked; every change is printed. --dry-run prints the plan
and connects to nothing.

An agent can still write the hub's keys of every service (epoch, primary,
failover state, commands): they share <etcd-prefix>services/<ns>/<svc>/
with the agents' leases and reports. docs/security.md says what that means.`,
		Example: `  fedstate etcd-roles --etcd-endpoints https://etcd-0:2379 --etcd-ca ca.pem \
      --etcd-cert root.pem --etcd-key root-key.pem --cluster eu-1,us-1,ap-1
  fedstate etcd-roles --dry-run --cluster eu-1 --etcd-prefix /fed-a/coord/ --dns-prefix /fed-a/dns/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.etcd.Endpoints, "etcd-endpoints", nil, "federation etcd client URLs (https://; comma-separated or repeated), e.g. https://etcd-0:2379")
	f.StringVar(&o.etcd.CAFile, "etcd-ca", "", "CA bundle that signed the federation etcd's serving certificate, e.g. ca.pem")
	f.StringVar(&o.etcd.CertFile, "etcd-cert", "", "client certificate with common name root, e.g. root.pem (before authentication is on, any certificate of the CA)")
	f.StringVar(&o.etcd.KeyFile, "etcd-key", "", "key of --etcd-cert, e.g. root-key.pem")
	f.DurationVar(&o.etcd.DialTimeout, "etcd-dial-timeout", o.etcd.DialTimeout, "deadline of the first connection to etcd, e.g. 10s")
	f.StringVar(&o.roles.CoordPrefix, "etcd-prefix", o.roles.CoordPrefix, "prefix of the coordination keys: the hub's failover.etcd.prefix and the agents' --etcd-prefix")
	f.StringVar(&o.roles.DNSPrefix, "dns-prefix", o.roles.DNSPrefix, "prefix of the DNS records: --dns-prefix of the hub and the agents, --prefix of fedstate dns")
	f.StringVar(&o.roles.HubUser, "hub-user", o.roles.HubUser, "etcd user of the hub: the common name of its certificate")
	f.StringVar(&o.roles.DNSUser, "dns-user", o.roles.DNSUser, "etcd user of the DNS servers: the common name of their certificate")
	f.StringSliceVar(&o.roles.Clusters, "cluster", nil, "member clusters (comma-separated or repeated), e.g. eu-1,us-1: each gets user agent-<cluster>, the agent's default --name")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the roles and users and change nothing (connects to nothing)")
	return cmd
}

// validate reports every bad flag at once.
func (o *etcdRolesOptions) validate() error {
	c := o.roles
	errs := []error{dnsserver.ValidatePrefix(c.CoordPrefix), dnsserver.ValidatePrefix(c.DNSPrefix)}
	if strings.HasPrefix(c.CoordPrefix, c.DNSPrefix) || strings.HasPrefix(c.DNSPrefix, c.CoordPrefix) {
		errs = append(errs, fmt.Errorf("--etcd-prefix %s and --dns-prefix %s overlap: a role could not tell them apart", c.CoordPrefix, c.DNSPrefix))
	}
	users := map[string]string{rootName: "root"}
	add := func(user, what string) {
		if !dnsserver.IsLabel(user) {
			errs = append(errs, fmt.Errorf("%s %q: not a DNS-1123 label", what, user))
		}
		if other, dup := users[user]; dup {
			errs = append(errs, fmt.Errorf("%s %q: also the user of %s", what, user, other))
		}
		users[user] = what
	}
	add(c.HubUser, "--hub-user")
	add(c.DNSUser, "--dns-user")
	for _, cl := range c.Clusters {
		add(agentUser(cl), "--cluster "+cl)
	}
	if !o.dryRun {
		if len(o.etcd.Endpoints) == 0 {
			errs = append(errs, errors.New("--etcd-endpoints: required (or --dry-run)"))
		}
		if o.etcd.CAFile == "" {
			errs = append(errs, errors.New("--etcd-ca: required: the users have no password, etcd knows them only by their certificates"))
		}
		errs = append(errs, checkEtcdTransport(o.etcd.Endpoints, o.etcd.CertFile, false))
	}
	return errors.Join(errs...)
}

func (o *etcdRolesOptions) run(cmd *cobra.Command, out io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	plan := planAuth(o.roles)
	if o.dryRun {
		fmt.Fprintln(out, "# dry run: nothing is written")
		plan.print(out)
		return nil
	}
	o.etcd.Prefix, o.etcd.Logger = o.roles.CoordPrefix, zap.NewNop()
	st, err := coord.Connect(cmd.Context(), o.etcd)
	if err != nil {
		return fmt.Errorf("connect to the federation etcd: %w", err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second) // a few dozen small requests
	defer cancel()
	return applyAuth(ctx, st.Client().Auth, plan, out)
}
