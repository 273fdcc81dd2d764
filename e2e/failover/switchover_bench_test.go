package failover

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// switchoversFedstate asks for iters planned switchovers of the service
// called name while w writes, each to the region after the primary's in
// the order of the federation's members, and records per switchover the
// time from the request to the first row the new primary acknowledged
// (switchover-write) and the client's write gap around it, from the row
// acknowledged before (switchover-gap). Rows the new primary lacks go to
// f.lost; hosts gets the replicas' servers.
func switchoversFedstate(b *testing.B, f *figures, name string, w *writer, hosts *hostList, iters int) {
	ctx := b.Context()
	for i := range iters {
		cur := waitSteady(b, name, w)
		old := *cur.Status.Primary
		for _, r := range cur.Status.ReplicaStatuses {
			hosts.add(netip.AddrPortFrom(netip.MustParseAddr(r.PodIP), pgPort).String())
		}
		to := regionAfter(b, old.Cluster)
		id := fmt.Sprintf("bench-%d", i+1)
		patch := client.MergeFrom(cur.DeepCopy())
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations[v1alpha1.AnnotationSwitchover] = fmt.Sprintf("id=%s,to=%s", id, to)
		asked := time.Now()
		if err := hubc.Patch(ctx, cur, patch); err != nil {
			b.Fatal(err)
		}
		var now *v1alpha1.FederatedStatefulSet
		var newHost string
		waitFor(b, 2*time.Minute, "switchover "+id+" to "+to+" Succeeded and a write on the new primary", func() error {
			var err error
			if now, err = getService(ctx, name); err != nil {
				return err
			}
			var req *v1alpha1.RequestStatus
			for k := range now.Status.Requests {
				if now.Status.Requests[k].ID == id {
					req = &now.Status.Requests[k]
				}
			}
			switch {
			case req == nil:
				return fmt.Errorf("%w: request not in the status yet", errNotYet)
			case req.Phase == v1alpha1.RequestRefused || req.Phase == v1alpha1.RequestFailed:
				b.Fatalf("switchover %s to %s: %s: %s", id, to, req.Phase, req.Message)
			case req.Phase != v1alpha1.RequestSucceeded:
				return fmt.Errorf("%w: request %s", errNotYet, req.Phase)
			}
			if p := now.Status.Primary; p == nil || p.Epoch <= old.Epoch {
				return fmt.Errorf("%w: primary %+v", errNotYet, p)
			}
			newHost = netip.AddrPortFrom(primaryAddr(now), pgPort).String()
			if _, _, ok := w.ackOn(newHost, asked); !ok {
				return fmt.Errorf("%w: no write acknowledged by the new primary %s; last error: %v", errNotYet, newHost, w.lastError())
			}
			return nil
		})
		lastOK, firstOK, _ := w.ackOn(newHost, asked)
		f.add("switchover-write", firstOK.Sub(asked))
		f.add("switchover-gap", firstOK.Sub(lastOK))
		lost := missingRows(b, newHost, w.ackedRows())
		f.lost += lost
		rec := now.Status.FailoverHistory[0]
		b.Logf("switchover %d: %s-%d (%s) -> %s-%d (%s, epoch %d); from the request: committed %s, published %s, first write on the new primary %s; write gap %s; %d rows lost",
			i+1, name, old.Ordinal, old.Cluster, name, now.Status.Primary.Ordinal, now.Status.Primary.Cluster, rec.Epoch,
			since(asked, rec.CommittedAt), since(asked, rec.PublishedAt), seconds(firstOK.Sub(asked)), seconds(firstOK.Sub(lastOK)), lost)
	}
}

// regionAfter is the region after cluster's in the order of the
// federation's members, the first after the last.
func regionAfter(b *testing.B, cluster string) string {
	var regions []string
	at := -1
	for _, c := range bed.Clusters() {
		if c.Hub {
			continue
		}
		if c.Name == cluster {
			at = len(regions)
		}
		regions = append(regions, c.Region)
	}
	if at < 0 {
		b.Fatalf("no member cluster %s", cluster)
	}
	return regions[(at+1)%len(regions)]
}

// since is the time from t to at in seconds, or "—" when at is unset.
func since(t time.Time, at *metav1.MicroTime) string {
	if at == nil {
		return "—"
	}
	return seconds(at.Sub(t))
}

// switchoversPatroni asks Patroni for iters switchovers from the leader to
// its synchronous standby (in synchronous mode the only candidate Patroni
// accepts) while w writes, and records them as switchoversFedstate does.
func switchoversPatroni(b *testing.B, f *figures, c *patroniCluster, w *writer, iters int) {
	for i := range iters {
		li, si := c.waitHealthy(b, w)
		old, cand := c.nodes[li], c.nodes[si]
		asked := time.Now()
		if err := c.switchover(b.Context(), old, cand); err != nil {
			b.Fatal(err)
		}
		answered := time.Now()
		waitFor(b, 2*time.Minute, "a write on the new Patroni leader "+cand.name, func() error {
			if _, _, ok := w.ackOn(cand.pgHost, asked); !ok {
				return fmt.Errorf("%w: no write acknowledged by %s; last error: %v", errNotYet, cand.name, w.lastError())
			}
			return nil
		})
		lastOK, firstOK, _ := w.ackOn(cand.pgHost, asked)
		f.add("switchover-write", firstOK.Sub(asked))
		f.add("switchover-gap", firstOK.Sub(lastOK))
		lost := missingRows(b, cand.pgHost, w.ackedRows())
		f.lost += lost
		b.Logf("switchover %d: %s -> %s; from the request: answered %s, first write on the new leader %s; write gap %s; %d rows lost",
			i+1, old.name, cand.name, seconds(answered.Sub(asked)), seconds(firstOK.Sub(asked)), seconds(firstOK.Sub(lastOK)), lost)
	}
}

// switchover asks the REST API of leader for a switchover to candidate
// and returns once Patroni answers that the candidate leads. Patroni
// answers when it saw the new leader key or gave up, within 2 ×
// max(10 s, loop_wait).
func (c *patroniCluster) switchover(ctx context.Context, leader, candidate *patroniNode) error {
	body, err := json.Marshal(map[string]string{"leader": leader.name, "candidate": candidate.name})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, leader.apiURL+"/switchover", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST /switchover to %s: %w", leader.name, err)
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST /switchover to %s: %w", leader.name, err)
	}
	if want := fmt.Sprintf("Successfully switched over to %q", candidate.name); resp.StatusCode != http.StatusOK || string(msg) != want {
		return fmt.Errorf("POST /switchover %s -> %s: %d %q, want 200 %q", leader.name, candidate.name, resp.StatusCode, msg, want)
	}
	return nil
}
