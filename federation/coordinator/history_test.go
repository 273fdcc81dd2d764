package coordinator_test

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fedstate/fedstate/replication/coord"
)

// revision returns etcd's current revision.
func (e *env) revision() int64 {
	e.t.Helper()
	resp, err := e.store.Client().Get(e.t.Context(), "/test/"+e.ns+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.Header.Revision
}

// historyEvent is one change of a key under the test's prefixes.
type historyEvent struct {
	rev     int64
	key     string
	k       coord.Key
	parsed  bool
	deleted bool
	value   []byte
}

// history is the changes in revision order.
type history struct {
	t      *testing.T
	events []historyEvent
}

// history reads every change under the test's prefixes since rev.
func (e *env) history(rev int64) *history {
	e.t.Helper()
	end := e.revision()
	ctx, cancel := context.WithTimeout(e.t.Context(), 10*time.Second)
	defer cancel()
	h := &history{t: e.t}
	for resp := range e.store.Client().Watch(ctx, "/test/"+e.ns+"/", clientv3.WithPrefix(), clientv3.WithRev(rev)) {
		if err := resp.Err(); err != nil {
			e.t.Fatal(err)
		}
		for _, ev := range resp.Events {
			he := historyEvent{rev: ev.Kv.ModRevision, key: string(ev.Kv.Key), deleted: ev.Type == clientv3.EventTypeDelete, value: ev.Kv.Value}
			if k, err := coord.ParseKey(e.coordPfx, he.key); err == nil {
				he.k, he.parsed = k, true
			}
			h.events = append(h.events, he)
		}
		if resp.Header.Revision >= end {
			return h
		}
	}
	e.t.Fatal("history: the watch ended early")
	return nil
}

// first returns the first event after revision after that matches, and
// fails the test when there is none.
func (h *history) first(what string, match func(historyEvent) bool, after int64) historyEvent {
	h.t.Helper()
	for _, ev := range h.events {
		if ev.rev > after && match(ev) {
			return ev
		}
	}
	h.t.Fatalf("history: no %s after revision %d", what, after)
	return historyEvent{}
}

// is says whether the event is a put or delete of a coordination key of
// kind of the service db.
func (ev historyEvent) is(kind coord.Kind) bool {
	return ev.parsed && ev.k.Kind == kind && ev.k.Service == "db"
}

// command decodes a command to replica n.
func (ev historyEvent) command(n int) (coord.Command, bool) {
	if !ev.is(coord.KindCommand) || ev.k.Replica != n || ev.deleted {
		return coord.Command{}, false
	}
	c, err := coord.DecodeCommand(ev.value)
	return c, err == nil
}

// report decodes a report of replica n.
func (ev historyEvent) report(n int) (coord.Report, bool) {
	if !ev.is(coord.KindReport) || ev.k.Replica != n || ev.deleted {
		return coord.Report{}, false
	}
	r, err := coord.DecodeReport(ev.value)
	return r, err == nil
}

// mustReport decodes a report the event is known to hold.
func (ev historyEvent) mustReport(t *testing.T, n int) coord.Report {
	t.Helper()
	r, ok := ev.report(n)
	if !ok {
		t.Fatalf("revision %d holds no report of %d", ev.rev, n)
	}
	return r
}
