package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrConflict is returned by Writer.Commit when a guard of the transaction
// failed: someone else changed the records first. Re-read and retry.
var ErrConflict = errors.New("dnsserver: transaction guard failed")

// Ops are guards and operations to add to a caller's etcd transaction:
//
//	txn.If(ops.If...).Then(ops.Then...)
//
// The hub and the failover coordinator add them next to their own guards
// (leader key, fencing epoch) so that DNS changes commit atomically with
// the state they describe. etcd rejects a transaction that writes the same
// key twice, so merge Ops of distinct keys only.
type Ops struct {
	// If are the compares the transaction must pass.
	If []clientv3.Cmp
	// Then are the writes of the transaction's success branch.
	Then []clientv3.Op
}

// Add returns the union of o and more.
func (o Ops) Add(more Ops) Ops {
	return Ops{
		If:   append(append([]clientv3.Cmp(nil), o.If...), more.If...),
		Then: append(append([]clientv3.Op(nil), o.Then...), more.Then...),
	}
}

// WriterConfig configures a Writer.
type WriterConfig struct {
	// Prefix of every DNS key in etcd; it ends in "/".
	Prefix string
	// CommitTimeout bounds one Commit round trip to etcd.
	CommitTimeout time.Duration
}

// DefaultWriterConfig returns the configuration the servers read by default.
func DefaultWriterConfig() WriterConfig {
	return WriterConfig{
		Prefix: DefaultPrefix,
		// An etcd transaction within a region commits in milliseconds; five
		// seconds covers a leader election without hanging a controller.
		CommitTimeout: 5 * time.Second,
	}
}

// Validate reports every bad field at once.
func (c WriterConfig) Validate() error {
	return errors.Join(ValidatePrefix(c.Prefix), positive("commitTimeout", c.CommitTimeout))
}

// Writer builds the etcd operations that publish a service's DNS records.
// It holds no connection and is safe for concurrent use.
type Writer struct {
	cfg WriterConfig
}

// NewWriter returns a Writer after validating cfg.
func NewWriter(cfg WriterConfig) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("writer config: %w", err)
	}
	return &Writer{cfg: cfg}, nil
}

// PutService publishes the ports of service ns/svc.
func (w *Writer) PutService(ns, svc string, s Service) (Ops, error) {
	return w.put(Key{Namespace: ns, Service: svc, Kind: KindService}, func() ([]byte, error) { return EncodeService(s) })
}

// PutReplica publishes replica n of service ns/svc.
func (w *Writer) PutReplica(ns, svc string, n int, r Replica) (Ops, error) {
	return w.put(Key{Namespace: ns, Service: svc, Kind: KindReplica, Ordinal: n}, func() ([]byte, error) { return EncodeReplica(r) })
}

// DeleteReplica removes replica n of service ns/svc from DNS.
func (w *Writer) DeleteReplica(ns, svc string, n int) (Ops, error) {
	k := Key{Namespace: ns, Service: svc, Kind: KindReplica, Ordinal: n}
	if err := k.Validate(); err != nil {
		return Ops{}, err
	}
	return Ops{Then: []clientv3.Op{clientv3.OpDelete(k.EtcdKey(w.cfg.Prefix))}}, nil
}

// DeleteService removes every record of service ns/svc.
func (w *Writer) DeleteService(ns, svc string) (Ops, error) {
	if err := (Key{Namespace: ns, Service: svc, Kind: KindService}).Validate(); err != nil {
		return Ops{}, err
	}
	return Ops{Then: []clientv3.Op{clientv3.OpDelete(ServicePrefix(w.cfg.Prefix, ns, svc), clientv3.WithPrefix())}}, nil
}

// SetPrimary names the primary of ns/svc and its fencing epoch. The Ops are
// guarded: they apply only while the stored primary still equals prev (nil:
// no primary was ever published), and next.Epoch must exceed prev.Epoch.
// Add them to the transaction that bumps the fencing epoch, together with
// the PutReplica of the demoted and promoted replicas, so that DNS names
// the new primary exactly when it is fenced in.
func (w *Writer) SetPrimary(ns, svc string, prev *Primary, next Primary) (Ops, error) {
	k := Key{Namespace: ns, Service: svc, Kind: KindPrimary}
	if prev != nil && next.Epoch <= prev.Epoch {
		return Ops{}, fmt.Errorf("primary of %s/%s: epoch %d does not exceed %d", ns, svc, next.Epoch, prev.Epoch)
	}
	ops, err := w.put(k, func() ([]byte, error) { return EncodePrimary(next) })
	if err != nil {
		return Ops{}, err
	}
	key := k.EtcdKey(w.cfg.Prefix)
	if prev == nil {
		ops.If = []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)}
		return ops, nil
	}
	old, err := EncodePrimary(*prev)
	if err != nil {
		return Ops{}, fmt.Errorf("previous primary of %s/%s: %w", ns, svc, err)
	}
	ops.If = []clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "=", string(old))}
	return ops, nil
}

// Commit runs ops as one transaction on kv within the configured timeout.
// It returns ErrConflict when a guard failed and nothing was written.
func (w *Writer) Commit(ctx context.Context, kv clientv3.KV, ops Ops) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.CommitTimeout)
	defer cancel()
	resp, err := kv.Txn(ctx).If(ops.If...).Then(ops.Then...).Commit()
	if err != nil {
		return fmt.Errorf("commit DNS records: %w", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}

func (w *Writer) put(k Key, enc func() ([]byte, error)) (Ops, error) {
	if err := k.Validate(); err != nil {
		return Ops{}, err
	}
	b, err := enc()
	if err != nil {
		return Ops{}, fmt.Errorf("%s: %w", k.EtcdKey(w.cfg.Prefix), err)
	}
	return Ops{Then: []clientv3.Op{clientv3.OpPut(k.EtcdKey(w.cfg.Prefix), string(b))}}, nil
}

// DefaultPrefix is the etcd prefix of the DNS records.
const DefaultPrefix = "/fedstate/dns/"

// ValidatePrefix checks that p can prefix a key layout in etcd: it starts
// and ends with "/" and is not "/" alone.
func ValidatePrefix(p string) error {
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) < 2 {
		return fmt.Errorf("prefix %q: must start and end with / and not be /", p)
	}
	return nil
}

func positive(field string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s %v: must be positive", field, d)
	}
	return nil
}
