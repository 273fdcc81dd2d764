package members

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/version"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// versionRefresh is how often a healthy member's version is read again
// (and at once after it was unreachable or not ready).
const versionRefresh = time.Minute

// errNotSynced: the member's node or storage class cache has not synced
// yet; the capacity waits for a later probe.
var errNotSynced = errors.New("members: capacity cache not synced yet")

// probeLoop probes the member every ProbeInterval until ctx ends, keeps
// its health snapshot and metrics, and publishes the status to the hub.
func (r *Registry) probeLoop(ctx context.Context, m *member) {
	log := ctrl.LoggerFrom(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		prev := m.health.Load()
		h := prev.observe(r.probe(ctx, m), r.cfg.FailureThreshold)
		if h.Verdict == healthy {
			if err := r.refreshCapacity(ctx, m, &h, prev.Verdict != healthy); err != nil && ctx.Err() == nil && !errors.Is(err, errNotSynced) {
				log.Error(err, "Cannot refresh member capacity")
			}
		}
		m.health.Store(&h)
		gauge := 0.0
		if h.reachable() {
			gauge = 1
		}
		reachableGauge.WithLabelValues(m.name).Set(gauge)
		if err := r.publish(ctx, m.name, h); err != nil && ctx.Err() == nil {
			log.Error(err, "Cannot write member status")
		}
		timer.Reset(r.cfg.ProbeInterval)
	}
}

// probe GETs the member's /readyz within ProbeTimeout.
func (r *Registry) probe(ctx context.Context, m *member) probeResult {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout)
	defer cancel()
	start := time.Now()
	res := m.probe.Get().AbsPath("/readyz").Do(ctx)
	probeDuration.Observe(time.Since(start).Seconds())
	var code int
	res.StatusCode(&code)
	out := probeResult{At: start, Reached: code != 0, Ready: code == http.StatusOK}
	switch {
	case out.Ready:
		return out
	case out.Reached:
		body, _ := res.Raw()
		out.Err = fmt.Errorf("/readyz answered %d: %s", code, failedChecks(body))
	default:
		out.Err = res.Error()
	}
	probeFailures.WithLabelValues(m.name).Inc()
	return out
}

// failedChecks summarises a /readyz answer: the names of the failed checks
// ("[-]etcd failed: reason withheld"), else the start of the body.
func failedChecks(body []byte) string {
	var failed []string
	for line := range strings.Lines(string(body)) {
		if name, ok := strings.CutPrefix(line, "[-]"); ok {
			name, _, _ = strings.Cut(name, " ")
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return "failed checks: " + strings.Join(failed, ", ")
	}
	return truncate(strings.TrimSpace(string(body)), 200)
}

// truncate shortens s to at most n bytes, on a rune boundary, marking the
// cut with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// refreshCapacity summarises the member's nodes and storage classes from
// its cache into h, and reads the member's version when it is unknown,
// versionRefresh old, or recovered says the member just became healthy.
func (r *Registry) refreshCapacity(ctx context.Context, m *member, h *health, recovered bool) error {
	if h.Version == "" || recovered || time.Since(h.VersionAt) >= versionRefresh {
		var v version.Info
		err := r.within(ctx, func(ctx context.Context) error {
			raw, err := m.probe.Get().AbsPath("/version").Do(ctx).Raw()
			if err != nil {
				return err
			}
			return json.Unmarshal(raw, &v)
		})
		if err != nil {
			return fmt.Errorf("read version of %s: %w", m.name, err)
		}
		h.Version, h.VersionAt = v.GitVersion, time.Now()
	}
	c := m.cluster.GetCache()
	for _, obj := range capacityTypes() {
		// Getting an informer starts it on first use; its kind's REST
		// mapping may need one discovery request.
		var inf cache.Informer
		err := r.within(ctx, func(ctx context.Context) (err error) {
			inf, err = c.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
			return err
		})
		if err != nil {
			return fmt.Errorf("watch %T of %s: %w", obj, m.name, err)
		}
		if !inf.HasSynced() {
			return errNotSynced
		}
	}
	var nodes corev1.NodeList
	var classes storagev1.StorageClassList
	for _, list := range []client.ObjectList{&nodes, &classes} {
		if err := r.within(ctx, func(ctx context.Context) error { return c.List(ctx, list) }); err != nil {
			return fmt.Errorf("list %T of %s from the cache: %w", list, m.name, err)
		}
	}
	h.Capacity = summarize(nodes.Items, classes.Items)
	return nil
}

// within runs call with a ProbeTimeout deadline.
func (r *Registry) within(ctx context.Context, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout)
	defer cancel()
	return call(ctx)
}

// capacityOf copies a health snapshot's capacity.
func capacityOf(h *health) *v1alpha1.ClusterCapacity {
	if h == nil || h.Capacity == nil {
		return nil
	}
	return h.Capacity.DeepCopy()
}
