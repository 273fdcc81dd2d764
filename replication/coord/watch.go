package coord

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

var errWatchClosed = errors.New("watch closed by the client")

// Event is one change of a coordination key.
type Event struct {
	// Key that changed.
	Key Key
	// Revision of the change.
	Revision int64
	// Deleted is true when the key was removed: for KindLease and
	// KindReport keys typically because the holder's etcd lease expired
	// or was revoked, for KindLease also by a promotion.
	Deleted bool
	// Value is the new value; nil when Deleted.
	Value []byte
	// PrevValue is the value before the change; nil for a new key.
	PrevValue []byte
}

// WatchResponse is a batch of events of one etcd revision range.
type WatchResponse struct {
	// Events in revision order; keys outside the layout (such as the
	// election keys) are left out.
	Events []Event
	// Revision is the store revision the response is current to.
	Revision int64
	// Err is set in the last response before the channel closes, when the
	// watch broke (for example rpctypes.ErrCompacted when rev was
	// compacted): take a new Snapshot and watch again.
	Err error
}

// Watch follows every coordination key (all services and agents) from
// revision rev (0: from now) until ctx is done. The channel closes when
// ctx is done or the watch breaks (see WatchResponse.Err).
func (s *Store) Watch(ctx context.Context, rev int64) <-chan WatchResponse {
	return s.watch(ctx, s.cfg.Prefix, rev)
}

// WatchService follows the keys of svc from revision rev (0: from now);
// watch from Snapshot.Revision+1 to miss nothing after a Snapshot. The
// lease expiry of the primary shows as a deleted KindLease key.
func (s *Store) WatchService(ctx context.Context, svc Service, rev int64) <-chan WatchResponse {
	return s.watch(ctx, ServicePrefix(s.cfg.Prefix, svc), rev)
}

func (s *Store) watch(ctx context.Context, prefix string, rev int64) <-chan WatchResponse {
	out := make(chan WatchResponse)
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithPrevKV()}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	in := s.cli.Watch(wctx, prefix, opts...)
	go func() {
		defer close(out)
		defer cancel()
		for resp := range in {
			wr := WatchResponse{Revision: resp.Header.Revision}
			if err := resp.Err(); err != nil {
				wr.Err = fmt.Errorf("watch %s: %w", prefix, err)
			}
			for _, ev := range resp.Events {
				k, err := ParseKey(s.cfg.Prefix, string(ev.Kv.Key))
				if err != nil {
					continue
				}
				e := Event{Key: k, Revision: ev.Kv.ModRevision, Deleted: ev.Type == clientv3.EventTypeDelete}
				if !e.Deleted {
					e.Value = ev.Kv.Value
				}
				if ev.PrevKv != nil {
					e.PrevValue = ev.PrevKv.Value
				}
				wr.Events = append(wr.Events, e)
			}
			if len(wr.Events) == 0 && wr.Err == nil {
				continue
			}
			select {
			case out <- wr:
			case <-ctx.Done():
				return
			}
			if wr.Err != nil {
				return
			}
		}
		if ctx.Err() == nil { // the client was closed under the watch
			select {
			case out <- WatchResponse{Err: fmt.Errorf("watch %s: %w", prefix, errWatchClosed)}:
			case <-ctx.Done():
			}
		}
	}()
	return out
}
