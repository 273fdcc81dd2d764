package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/e2e/localfed"
)

// benchPatroni runs iters losses of the Patroni leader (Patroni and its
// server killed with SIGKILL) in synchronous mode with the timings of
// prof, while a client writes through the leader it finds with GET
// /primary, then iters switchovers, and records them in f as
// benchFedstate does. It stops the cluster when done.
func benchPatroni(b *testing.B, f *figures, iters int, prof patroniProfile) {
	ctx := b.Context()
	c := startPatroni(b, prof, true)
	defer c.close(b)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := &writer{locate: c.locate}
	go w.run(wctx)
	var wr localfed.Writability
	go wr.WatchHosts(wctx, c.pgHosts)
	for i := range iters {
		li, _ := c.waitHealthy(b, w)
		old := c.nodes[li]
		var survivors []string
		for _, n := range c.nodes {
			if n != old {
				survivors = append(survivors, n.pgHost)
			}
		}
		lctx, stopWatch := context.WithCancel(ctx)
		leaderKey, err := c.watchLeader(lctx)
		if err != nil {
			b.Fatal(err)
		}

		killed := time.Now()
		writable := firstWritable(ctx, survivors)
		if err := old.kill(); err != nil {
			b.Fatal(err)
		}
		down := time.Now()
		ackedBefore := w.ackedRows()
		var detected, committed time.Time
		var leader string
		waitFor(b, 3*time.Minute, "a new Patroni leader and a write through it", func() error {
			if detected, committed, leader = leaderKey.change(old.name); committed.IsZero() {
				return fmt.Errorf("%w: leader key not taken over yet", errNotYet)
			}
			if _, _, ok := w.ackGap(down); !ok {
				return fmt.Errorf("%w: no write acknowledged since the kill; last error: %v", errNotYet, w.lastError())
			}
			return nil
		})
		stopWatch()
		lastOK, firstOK, _ := w.ackGap(down)
		f.add("detected", detected.Sub(killed))
		f.add("committed", committed.Sub(killed))
		f.add("writable", waitWritable(b, writable).Sub(killed))
		f.add("first-write", firstOK.Sub(killed))
		f.add("unavailable", firstOK.Sub(lastOK))
		f.add("detected-to-write", firstOK.Sub(detected))
		lost := missingRows(b, c.nodes[c.node(leader)].pgHost, ackedBefore)
		f.lost += lost
		b.Logf("failover %d: %s -> %s; from the kill: leader key expired %s, taken %s, first write %s; unavailable %s; %d rows lost",
			i+1, old.name, leader, seconds(detected.Sub(killed)), seconds(committed.Sub(killed)),
			seconds(firstOK.Sub(killed)), seconds(firstOK.Sub(lastOK)), lost)
		b.Logf("failover %d: the client's last error before its first write: %v", i+1, w.lastError())
		if err := old.start(c.cred); err != nil {
			b.Fatal(err)
		}
	}
	switchoversPatroni(b, f, c, w, iters)
	stop()
	leader, _ := c.waitHealthy(b, nil)
	f.lost += missingRows(b, c.nodes[leader].pgHost, w.ackedRows())
	f.overlaps += overlapCount(b, &wr)
}

// patroniMember is a member in Patroni's GET /cluster answer.
type patroniMember struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	State string `json:"state"`
	// Lag is a number of bytes, or a word while unknown.
	Lag json.RawMessage `json:"lag"`
}

// members asks the nodes in turn for GET /cluster; the first answer wins.
func (c *patroniCluster) members(ctx context.Context) ([]patroniMember, error) {
	var last error
	for _, n := range c.nodes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.apiURL+"/cluster", nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			last = err
			continue
		}
		var body struct {
			Members []patroniMember `json:"members"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		return body.Members, nil
	}
	return nil, fmt.Errorf("no Patroni node answers GET /cluster: %w", last)
}

// waitHealthy waits until the three nodes run, one as the leader and, in
// synchronous mode, one as its synchronous standby and one as a replica,
// else two replicas, both standbys streaming from the leader with a known
// lag (Patroni reports a lag for a standby that does not stream yet), and,
// with a writer, a row was acknowledged in the last second. It returns the index of the
// leader and of the synchronous standby (-1 without synchronous mode).
func (c *patroniCluster) waitHealthy(t testing.TB, w *writer) (leader, syncStandby int) {
	t.Helper()
	want := map[string]int{"leader": 1, "replica": 2}
	if c.sync {
		want = map[string]int{"leader": 1, "sync_standby": 1, "replica": 1}
	}
	waitFor(t, 3*time.Minute, "Patroni: a leader and its standbys running", func() error {
		ms, err := c.members(t.Context())
		if err != nil {
			return err
		}
		leader, syncStandby = -1, -1
		roles := map[string]int{}
		for _, m := range ms {
			var lag int64
			if m.State != "running" || (m.Role != "leader" && json.Unmarshal(m.Lag, &lag) != nil) {
				return fmt.Errorf("%w: %s is %s %s (lag %s)", errNotYet, m.Name, m.Role, m.State, m.Lag)
			}
			roles[m.Role]++
			i := c.node(m.Name)
			switch m.Role {
			case "leader":
				leader = i
			case "sync_standby":
				syncStandby = i
			}
		}
		if len(ms) != len(c.nodes) || !maps.Equal(roles, want) || leader < 0 {
			return fmt.Errorf("%w: roles %v", errNotYet, roles)
		}
		n, err := streamingStandbys(t.Context(), c.nodes[leader].pgHost)
		if err != nil {
			return err
		}
		if n != len(c.nodes)-1 {
			return fmt.Errorf("%w: %d standbys streaming from the leader", errNotYet, n)
		}
		if w != nil {
			if _, _, ok := w.ackGap(time.Now().Add(-time.Second)); !ok {
				return fmt.Errorf("%w: no row acknowledged in the last second", errNotYet)
			}
		}
		return nil
	})
	return leader, syncStandby
}

// node returns the index of the node called name, or -1.
func (c *patroniCluster) node(name string) int {
	for i, n := range c.nodes {
		if n.name == name {
			return i
		}
	}
	return -1
}

// keyChanges records when the changes of one etcd key arrived.
type keyChanges struct {
	mu      sync.Mutex
	changes []keyChange
}

// keyChange is one change: a delete, or a put of value.
type keyChange struct {
	at      time.Time
	deleted bool
	value   string
}

// watchLeader records the changes of Patroni's leader key from now until
// ctx ends.
func (c *patroniCluster) watchLeader(ctx context.Context) (*keyChanges, error) {
	key := "/service/" + patroniScope + "/leader"
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cur, err := c.cli.Get(gctx, key)
	if err != nil {
		return nil, fmt.Errorf("get Patroni's leader key: %w", err)
	}
	kc := &keyChanges{}
	ch := c.cli.Watch(ctx, key, clientv3.WithRev(cur.Header.Revision+1))
	go func() {
		for resp := range ch {
			now := time.Now()
			kc.mu.Lock()
			for _, ev := range resp.Events {
				kc.changes = append(kc.changes, keyChange{at: now, deleted: ev.Type == clientv3.EventTypeDelete, value: string(ev.Kv.Value)})
			}
			kc.mu.Unlock()
		}
	}()
	return kc, nil
}

// change returns when the key held by old was deleted and when another
// value was put after that, with that value; zero times while not yet.
func (kc *keyChanges) change(old string) (deleted, taken time.Time, by string) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	for _, ch := range kc.changes {
		switch {
		case ch.deleted && deleted.IsZero():
			deleted = ch.at
		case !ch.deleted && !deleted.IsZero() && ch.value != old:
			return deleted, ch.at, ch.value
		}
	}
	return deleted, time.Time{}, ""
}
