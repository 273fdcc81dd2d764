package coordinator

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// publishPlain publishes the DNS records of a service without a primary
// (replication None or Native): every placed replica with an address, as
// an asynchronous replica. Without the etcd leadership it tries again
// later.
func (c *Coordinator) publishPlain(ctx context.Context, fss *v1alpha1.FederatedStatefulSet) (ctrl.Result, error) {
	t := c.current()
	if t == nil {
		return ctrl.Result{RequeueAfter: c.Config.RetryInterval}, nil
	}
	members, err := c.members(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	v := viewOf(fss, members, c.Config.StepTimeout)
	want, err := desiredRecords(c.DNS, fss.Namespace, &v, nil)
	if err != nil {
		return ctrl.Result{}, err
	}
	have, _, err := c.readRecords(ctx, fss.Namespace, fss.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := c.publish(ctx, t, diff(c.Config.DNSPrefix, fss.Namespace, fss.Name, have, want)); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// publish commits DNS record changes under the tenure.
func (c *Coordinator) publish(ctx context.Context, t *tenure, ops dnsserver.Ops) error {
	if len(ops.Then) == 0 {
		return nil
	}
	if err := c.Store.PublishDNS(ctx, t.guard, ops); err != nil {
		return err
	}
	dnsWritesTotal.Inc()
	return nil
}

// forget removes the coordination state and DNS records of a service the
// API server confirms is gone.
func (c *Coordinator) forget(ctx context.Context, key types.NamespacedName) (ctrl.Result, error) {
	var fss v1alpha1.FederatedStatefulSet
	if err := c.APIReader.Get(ctx, key, &fss); !apierrors.IsNotFound(err) {
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("confirm that %s is gone: %w", key, err)
		}
		return ctrl.Result{RequeueAfter: c.Config.RetryInterval}, nil // the cache is behind: not gone
	}
	t := c.current()
	if t == nil {
		return ctrl.Result{RequeueAfter: c.Config.RetryInterval}, nil
	}
	ops, err := c.DNS.DeleteService(key.Namespace, key.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := c.Store.Forget(ctx, coordService(key), t.guard, ops); err != nil {
		return ctrl.Result{}, err
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Forgot a deleted service's coordination state and DNS records")
	return ctrl.Result{}, nil
}

// members returns the member clusters by name, from the cache.
func (c *Coordinator) members(ctx context.Context) (map[string]*v1alpha1.MemberCluster, error) {
	var list v1alpha1.MemberClusterList
	if err := c.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list MemberClusters: %w", err)
	}
	out := make(map[string]*v1alpha1.MemberCluster, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out, nil
}

// readTimeout bounds a read of a service's DNS records: a range read of a
// few keys, answered in milliseconds by a healthy etcd.
const readTimeout = 5 * time.Second

// readRecords reads a service's DNS records from etcd, and its primary
// record when there is one.
func (c *Coordinator) readRecords(ctx context.Context, ns, name string) (records, *dnsserver.Primary, error) {
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	resp, err := c.Store.Client().Get(rctx, dnsserver.ServicePrefix(c.Config.DNSPrefix, ns, name), clientv3.WithPrefix())
	if err != nil {
		return nil, nil, fmt.Errorf("read the DNS records of %s/%s: %w", ns, name, err)
	}
	recs := records{}
	var primary *dnsserver.Primary
	for _, kv := range resp.Kvs {
		recs[string(kv.Key)] = string(kv.Value)
		k, err := dnsserver.ParseEtcdKey(c.Config.DNSPrefix, string(kv.Key))
		if err != nil || k.Kind != dnsserver.KindPrimary {
			continue
		}
		if p, err := dnsserver.DecodePrimary(kv.Value); err == nil {
			primary = &p
		}
	}
	return recs, primary, nil
}
