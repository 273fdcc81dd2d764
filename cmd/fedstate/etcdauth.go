package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/authpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/replication/coord"
)

// The etcd roles fedstate etcd-roles manages.
const (
	roleHub   = "fedstate-hub"
	roleAgent = "fedstate-agent" // shared by every agent; agentRole adds each one's own
	roleDNS   = "fedstate-dns"
	rootName  = "root" // etcd's root user and role: everything, and the auth settings
)

// agentRole is the role of the agent of cluster alone: its liveness key.
func agentRole(cluster string) string { return roleAgent + "-" + cluster }

// agentUser is the etcd user of the agent of cluster: the agent's default
// name (fedstate agent --name), and the common name of its certificate.
func agentUser(cluster string) string { return "agent-" + cluster }

// permission is one key range a role may read or write: [Key, RangeEnd),
// or the one key Key when RangeEnd is empty.
type permission struct {
	Type     authpb.Permission_Type
	Key      string
	RangeEnd string
}

// prefixPerm is the permission on every key under prefix.
func prefixPerm(t authpb.Permission_Type, prefix string) permission {
	return permission{Type: t, Key: prefix, RangeEnd: clientv3.GetPrefixRangeEnd(prefix)}
}

func (p permission) String() string {
	what := "key " + p.Key
	if p.RangeEnd == clientv3.GetPrefixRangeEnd(p.Key) {
		what = "prefix " + p.Key
	} else if p.RangeEnd != "" {
		what = fmt.Sprintf("range [%s, %s)", p.Key, p.RangeEnd)
	}
	return strings.ToLower(p.Type.String()) + " " + what
}

// rolePlan is one role and exactly the permissions it should have.
type rolePlan struct {
	Name  string
	Perms []permission
}

// userPlan is one user and the roles it should have.
type userPlan struct {
	Name  string
	Roles []string
}

// authPlan is every role and user of a federation etcd.
type authPlan struct {
	Roles []rolePlan
	Users []userPlan
}

// rolesConfig is what the plan is made from.
type rolesConfig struct {
	// CoordPrefix is the coordination keys' prefix (the hub's
	// failover.etcd.prefix, the agents' --etcd-prefix).
	CoordPrefix string
	// DNSPrefix is the DNS records' prefix (--dns-prefix, fedstate dns
	// --prefix).
	DNSPrefix string
	// HubUser and DNSUser are the common names of the hub's and the DNS
	// servers' certificates.
	HubUser, DNSUser string
	// Clusters are the member clusters, one agent each.
	Clusters []string
}

// planAuth returns the roles and users of a federation etcd; it is pure.
// The key layout (coord.Key.EtcdKey, dnsserver.EtcdKey) allows this much
// narrowing:
//
//   - the hub reads and writes both prefixes (it campaigns, promotes,
//     commands and publishes);
//   - every agent reads both prefixes, writes everything under
//     <coord>services/ (its primary leases and reports sit beside the
//     hub's epochs, primaries and commands, which a prefix cannot tell
//     apart), and writes its own liveness key <coord>agents/agent-<cluster>
//     only: not the hub's election keys, other agents' liveness keys or
//     any DNS record;
//   - a DNS server reads the DNS prefix only.
func planAuth(c rolesConfig) authPlan {
	rw, r := authpb.READWRITE, authpb.READ
	p := authPlan{
		Roles: []rolePlan{
			{Name: roleHub, Perms: []permission{prefixPerm(rw, c.CoordPrefix), prefixPerm(rw, c.DNSPrefix)}},
			{Name: roleAgent, Perms: []permission{prefixPerm(r, c.CoordPrefix), prefixPerm(r, c.DNSPrefix),
				prefixPerm(rw, c.CoordPrefix+"services/")}},
			{Name: roleDNS, Perms: []permission{prefixPerm(r, c.DNSPrefix)}},
		},
		Users: []userPlan{
			{Name: rootName, Roles: []string{rootName}},
			{Name: c.HubUser, Roles: []string{roleHub}},
			{Name: c.DNSUser, Roles: []string{roleDNS}},
		},
	}
	for _, cl := range c.Clusters {
		live := coord.AgentKey(agentUser(cl)).EtcdKey(c.CoordPrefix)
		p.Roles = append(p.Roles, rolePlan{Name: agentRole(cl), Perms: []permission{{Type: rw, Key: live}}})
		p.Users = append(p.Users, userPlan{Name: agentUser(cl), Roles: []string{roleAgent, agentRole(cl)}})
	}
	return p
}

// print writes the plan, one role or user a line.
func (p authPlan) print(w io.Writer) {
	for _, r := range p.Roles {
		perms := make([]string, len(r.Perms))
		for i, pm := range r.Perms {
			perms[i] = pm.String()
		}
		fmt.Fprintf(w, "role %s: %s\n", r.Name, strings.Join(perms, "; "))
	}
	for _, u := range p.Users {
		fmt.Fprintf(w, "user %s (no password: certificate common name %s): roles %s\n", u.Name, u.Name, strings.Join(u.Roles, ", "))
	}
	fmt.Fprintln(w, "auth: enable")
}

// applyAuth makes the etcd's roles and users match p and enables
// authentication. It is idempotent: what exists is left as it is, a
// managed role's permissions outside p are revoked, and roles of a user
// outside p are reported but kept. It prints every change to w.
func applyAuth(ctx context.Context, auth clientv3.Auth, p authPlan, w io.Writer) error {
	for _, r := range p.Roles {
		if err := applyRole(ctx, auth, r, w); err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
	}
	for _, u := range p.Users {
		if err := applyUser(ctx, auth, u, w); err != nil {
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
	}
	st, err := auth.AuthStatus(ctx)
	if err != nil {
		return fmt.Errorf("auth status: %w", err)
	}
	if st.Enabled {
		fmt.Fprintln(w, "auth: already enabled")
		return nil
	}
	if _, err := auth.AuthEnable(ctx); err != nil {
		return fmt.Errorf("auth enable: %w", err)
	}
	fmt.Fprintln(w, "auth: enabled")
	return nil
}

func applyRole(ctx context.Context, auth clientv3.Auth, r rolePlan, w io.Writer) error {
	_, err := auth.RoleAdd(ctx, r.Name)
	switch {
	case err == nil:
		fmt.Fprintf(w, "role %s: created\n", r.Name)
	case !errors.Is(err, rpctypes.ErrRoleAlreadyExist):
		return err
	}
	got, err := auth.RoleGet(ctx, r.Name)
	if err != nil {
		return err
	}
	have := map[permission]bool{}
	for _, pm := range got.Perm {
		have[permission{Type: pm.PermType, Key: string(pm.Key), RangeEnd: string(pm.RangeEnd)}] = true
	}
	changed := false
	for _, pm := range r.Perms {
		if have[pm] {
			continue
		}
		if _, err := auth.RoleGrantPermission(ctx, r.Name, pm.Key, pm.RangeEnd, clientv3.PermissionType(pm.Type)); err != nil {
			return fmt.Errorf("grant %s: %w", pm, err)
		}
		fmt.Fprintf(w, "role %s: granted %s\n", r.Name, pm)
		changed = true
	}
	for pm := range have {
		if slices.ContainsFunc(r.Perms, func(q permission) bool { return q.Key == pm.Key && q.RangeEnd == pm.RangeEnd }) {
			continue // granted above with the planned type
		}
		if _, err := auth.RoleRevokePermission(ctx, r.Name, pm.Key, pm.RangeEnd); err != nil {
			return fmt.Errorf("revoke %s: %w", pm, err)
		}
		fmt.Fprintf(w, "role %s: revoked %s (not in the plan)\n", r.Name, pm)
		changed = true
	}
	if !changed {
		fmt.Fprintf(w, "role %s: unchanged\n", r.Name)
	}
	return nil
}

func applyUser(ctx context.Context, auth clientv3.Auth, u userPlan, w io.Writer) error {
	_, err := auth.UserAddWithOptions(ctx, u.Name, "", &clientv3.UserAddOptions{NoPassword: true})
	switch {
	case err == nil:
		fmt.Fprintf(w, "user %s: created (no password)\n", u.Name)
	case !errors.Is(err, rpctypes.ErrUserAlreadyExist):
		return err
	}
	got, err := auth.UserGet(ctx, u.Name)
	if err != nil {
		return err
	}
	changed := false
	for _, r := range u.Roles {
		if slices.Contains(got.Roles, r) {
			continue
		}
		if _, err := auth.UserGrantRole(ctx, u.Name, r); err != nil {
			return fmt.Errorf("grant role %s: %w", r, err)
		}
		fmt.Fprintf(w, "user %s: granted role %s\n", u.Name, r)
		changed = true
	}
	for _, r := range got.Roles {
		if !slices.Contains(u.Roles, r) {
			fmt.Fprintf(w, "user %s: also has role %s, not in the plan: left alone (etcdctl user revoke-role %s %s)\n", u.Name, r, u.Name, r)
		}
	}
	if !changed {
		fmt.Fprintf(w, "user %s: unchanged\n", u.Name)
	}
	return nil
}
