package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// statusTimeout bounds the API calls of fedctl status: two reads that a
// healthy hub answers in milliseconds.
const statusTimeout = 30 * time.Second

// statusOptions are the flags of fedctl status.
type statusOptions struct {
	service serviceFlags
	output  string
	zone    string
}

func newStatusCommand() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status SERVICE [-o table|json|yaml]",
		Short: "Show where a service's replicas run, its primary, DNS names and failovers",
		Long: `Show one FederatedStatefulSet at a glance: its replicas, where they run
and in which role, its primary, its DNS names, its latest failovers and the
hub's answers to switchover and failover requests. It only reads: the
FederatedStatefulSet and the MemberClusters (for their regions).

The header gives the namespace and name, the replicas desired and ready,
the replication mode and, in PrimaryReplica mode, the primary: its replica,
cluster, region, fencing epoch and when it was promoted. Then the
FailingOver condition, and each of Placed, Available, Progressing and
Degraded that is not in its healthy state (True, True, False, False), with
its reason, message and how long it has been so.

The replicas, grouped by region then cluster:

  REPLICA    <name>-<ordinal>: the replica's name in every cluster
  REGION     region of its cluster (MemberCluster spec.region)
  CLUSTER    member cluster running it; - while it is not placed
  ROLE       Primary, SyncStandby, AsyncReplica, Fenced, or Unknown when it
             never reported; blank (-) outside PrimaryReplica mode
  READY      whether its pod is ready
  POD IP     its pod's address
  LAG        replication lag behind the primary, in bytes of log (binary
             units: 12.3 KiB is 12.3 x 1024 bytes); - when not reported
  DNS NAME   its own name, <name>-<n>.<name>.<ns>.svc.<zone>, answered
             wherever it runs

Then the service's names: <name>.<ns>.svc.<zone> (every ready replica),
primary.<name>.<ns>.svc.<zone> (the primary only) and, for each port,
the SRV names _<port>._<proto>.<name>.<ns>.svc.<zone> and
_<port>._<proto>.primary.<name>.<ns>.svc.<zone>. --zone must be the zone
fedstate dns serves.

The failovers, newest first, at most five: when the new primary was
published, the reason (LeaseExpired, Switchover, Manual, Bootstrap, ...),
old and new primary, epoch, RTO (detection to publication) and the data
lost (accepted: an operator allowed it). The requests: kind, id, phase
(Accepted means under way), the primary's epoch when accepted, when it
entered its phase, and the hub's message.

-o json and -o yaml print the same as a stable document (fields are added,
never renamed or removed): namespace, name, desiredReplicas,
readyReplicas, replicationMode, primary, failingOver, unhealthyConditions,
replicas, dns, failovers, requests; times in RFC 3339, UTC; lagBytes,
dataLossBytes (estimated at promotion) and measuredLossBytes (measured
on the old primary when it returned, with lostTransactions) as plain
numbers. docs/failover.md describes every field.`,
		Example: `  # The service db in namespace prod:
  fedctl status prod/db

  # The same, as JSON, for a script:
  fedctl status db -n prod -o json | jq -r .primary.cluster

  # DNS names in the zone the DNS servers serve:
  fedctl status prod/db --zone fedstate.example.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", formatTable, "output format: table, json or yaml")
	f.StringVar(&o.zone, "zone", dnsserver.DefaultConfig().Zone, "federation DNS zone the names are in")
	o.service.add(cmd)
	return cmd
}

// runStatus reads the service and the members and prints the report.
func runStatus(cmd *cobra.Command, o *statusOptions, arg string) error {
	var bad []string
	if _, err := serviceKey(arg, o.service.namespace); err != nil {
		bad = append(bad, err.Error())
	}
	if err := checkFormat(o.output); err != nil {
		bad = append(bad, err.Error())
	}
	zone, err := canonicalZone(o.zone)
	if err != nil {
		bad = append(bad, err.Error())
	}
	if len(bad) > 0 {
		return invalidArguments(bad)
	}
	hub, key, err := o.service.connect(arg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), statusTimeout)
	defer cancel()
	fss, err := getService(ctx, hub, key)
	if err != nil {
		return err
	}
	var members v1alpha1.MemberClusterList
	if err := hub.List(ctx, &members); err != nil {
		if !apierrors.IsForbidden(err) {
			return fmt.Errorf("list MemberClusters: %w", err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Regions from the service's status: %v\n", err)
	}
	out, err := renderStatus(o.output, fss, members.Items, zone, time.Now())
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(out)
	return err
}

// canonicalZone makes a zone name lower-case and fully qualified, and
// refuses one that is not a sequence of DNS-1123 labels.
func canonicalZone(zone string) (string, error) {
	if zone == "" {
		return "", fmt.Errorf("--zone %q: want a domain name such as fedstate.local", zone)
	}
	z := strings.ToLower(zone)
	if !strings.HasSuffix(z, ".") {
		z += "."
	}
	if z == "." {
		return z, nil
	}
	for _, l := range strings.Split(strings.TrimSuffix(z, "."), ".") {
		if !dnsserver.IsLabel(l) {
			return "", fmt.Errorf("--zone %q: want a domain name such as fedstate.local", zone)
		}
	}
	return z, nil
}
