package coord

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Lease is the primary lease of a service as a Snapshot saw it.
type Lease struct {
	Holder
	// ID is the etcd lease the key is bound to.
	ID clientv3.LeaseID
	// Revision is the key's ModRevision (PromoteRequest.LeaseRevision).
	Revision int64
}

// Snapshot is the coordination state of one service at one etcd revision.
type Snapshot struct {
	// Service the snapshot is of.
	Service Service
	// Revision is the etcd revision every field was read at; a Watch from
	// Revision+1 misses nothing.
	Revision int64
	// Epoch is the fencing epoch; 0 when the service never had a primary.
	Epoch int64
	// Primary is the replica promoted in Epoch; nil before the first
	// promotion.
	Primary *Primary
	// FailoverState is the failover state machine's stored state; nil when
	// none was stored.
	FailoverState []byte
	// Lease is the primary lease; nil when nobody holds it (expired,
	// released, or taken by a promotion).
	Lease *Lease
	// Reports are the latest reports by replica ordinal, of agents whose
	// session is alive.
	Reports map[int]Report
	// Commands are the latest commands of the hub leader by replica
	// ordinal.
	Commands map[int]Command
	// Skipped lists values that could not be decoded and were left out,
	// each error naming its key. Epoch and Primary are never skipped: a bad
	// one fails Snapshot.
	Skipped []error
}

// Snapshot reads the coordination state of svc with one range read, so
// every field is of the same revision.
func (s *Store) Snapshot(ctx context.Context, svc Service) (*Snapshot, error) {
	if err := svc.Validate(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, ServicePrefix(s.cfg.Prefix, svc), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", svc, err)
	}
	snap := &Snapshot{Service: svc, Revision: resp.Header.Revision, Reports: map[int]Report{}, Commands: map[int]Command{}}
	for _, kv := range resp.Kvs {
		if err := snap.add(s.cfg.Prefix, kv.Key, kv.Value, kv.Lease, kv.ModRevision); err != nil {
			return nil, fmt.Errorf("snapshot of %s at revision %d: %w", svc, snap.Revision, err)
		}
	}
	if snap.Primary != nil && snap.Primary.Epoch != snap.Epoch {
		return nil, fmt.Errorf("snapshot of %s at revision %d: primary of epoch %d in epoch %d", svc, snap.Revision, snap.Primary.Epoch, snap.Epoch)
	}
	return snap, nil
}

// add files one key of the service into the snapshot; it fails only for
// an unreadable epoch or primary.
func (snap *Snapshot) add(prefix string, key, val []byte, lease, mod int64) error {
	k, err := ParseKey(prefix, string(key))
	if err != nil {
		snap.Skipped = append(snap.Skipped, err)
		return nil
	}
	switch k.Kind {
	case KindEpoch:
		if snap.Epoch, err = parseEpoch(val); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	case KindPrimary:
		p, err := DecodePrimary(val)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		snap.Primary = &p
	case KindFailoverState:
		snap.FailoverState = append([]byte{}, val...)
	case KindLease:
		h, err := DecodeHolder(val)
		if err != nil {
			snap.Skipped = append(snap.Skipped, fmt.Errorf("%s: %w", key, err))
			// Still a held lease: report it so no promotion ignores it.
			snap.Lease = &Lease{ID: clientv3.LeaseID(lease), Revision: mod}
			return nil
		}
		snap.Lease = &Lease{Holder: h, ID: clientv3.LeaseID(lease), Revision: mod}
	case KindReport:
		r, err := DecodeReport(val)
		if err != nil {
			snap.Skipped = append(snap.Skipped, fmt.Errorf("%s: %w", key, err))
			return nil
		}
		snap.Reports[k.Replica] = r
	case KindCommand:
		c, err := DecodeCommand(val)
		if err != nil {
			snap.Skipped = append(snap.Skipped, fmt.Errorf("%s: %w", key, err))
			return nil
		}
		snap.Commands[k.Replica] = c
	}
	return nil
}

// CommandsFor lists the replicas of every service whose latest command is
// for cluster, with the revision they were read at: where an agent starts
// before following Watch from that revision + 1. Commands that cannot be
// decoded are left out.
func (s *Store) CommandsFor(ctx context.Context, cluster string) (map[Service][]int, int64, error) {
	rctx, cancel := s.requestCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.cfg.Prefix+"services/", clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("list commands: %w", err)
	}
	out := map[Service][]int{}
	for _, kv := range resp.Kvs {
		k, err := ParseKey(s.cfg.Prefix, string(kv.Key))
		if err != nil || k.Kind != KindCommand {
			continue
		}
		if c, err := DecodeCommand(kv.Value); err == nil && c.Cluster == cluster {
			svc := Service{Namespace: k.Namespace, Name: k.Service}
			out[svc] = append(out[svc], k.Replica)
		}
	}
	return out, resp.Header.Revision, nil
}
