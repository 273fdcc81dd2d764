package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/dnsserver"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

// errGone ends a session whose service no longer exists or no longer is
// in PrimaryReplica mode.
var errGone = errors.New("coordinator: the service is gone")

// session coordinates one service during one tenure: it starts from an
// etcd snapshot and the stored failover state, and is fed by a watch on
// the service's keys, nudges for the service's object and a ticker. One
// goroutine runs it and owns everything in it.
type session struct {
	c   *Coordinator
	t   *tenure
	svc *service
	id  coord.Service
	log logr.Logger

	// st is the failover state; active is false until the service has
	// one (loaded, or bootstrapped from the first placement).
	st     failover.State
	active bool
	// saved is the state as last stored or read, and when.
	saved   failover.State
	savedAt time.Time

	// rev is the etcd revision the session is current to.
	rev int64
	// lease is the primary lease, nil when nobody holds it.
	lease *coord.Holder
	// reports are the replicas' latest reports by ordinal.
	reports map[int]coord.Report
	// silent are the replicas whose report vanished (agent gone).
	silent map[int]bool
	// cmds are the commands etcd holds, by ordinal.
	cmds map[int]coord.Command
	// dns are the service's DNS records in etcd, and its primary record.
	dns        records
	dnsPrimary *dnsserver.Primary

	// statusAt is when the lags were last written into the status.
	statusAt time.Time
	// fss is the service's object as last read; v its view.
	fss *v1alpha1.FederatedStatefulSet
	v   view
	// seen are the failover records already announced, by epoch, and
	// announced the last FailingOver condition announced.
	seen      map[uint64]failover.Record
	announced failover.Condition
	// refused holds the machine's refusals of requests during a step.
	refused map[failover.RequestKind]string
	// done are the ids of the requests acted on, by kind, and noted the
	// request phases announced (kind, id and phase).
	done  map[v1alpha1.RequestKind]string
	noted map[v1alpha1.RequestKind]v1alpha1.RequestStatus
	// suspected is the primary ("epoch/cluster") whose cluster gossip was
	// last announced dead, empty when none is.
	suspected string
}

func newSession(c *Coordinator, t *tenure, s *service) *session {
	return &session{c: c, t: t, svc: s, id: coordService(s.key),
		reports: map[int]coord.Report{}, silent: map[int]bool{}, cmds: map[int]coord.Command{},
		seen: map[uint64]failover.Record{}, refused: map[failover.RequestKind]string{},
		done: map[v1alpha1.RequestKind]string{}, noted: map[v1alpha1.RequestKind]v1alpha1.RequestStatus{}}
}

// run coordinates until ctx ends or something fails; the caller starts a
// new session from a fresh snapshot after a failure.
func (s *session) run(ctx context.Context) error {
	s.log = ctrl.LoggerFrom(ctx)
	if err := s.id.Validate(); err != nil {
		return fmt.Errorf("%w: %s cannot be named in etcd: %w", errGone, s.svc.key, err)
	}
	if err := s.load(ctx); err != nil {
		return err
	}
	watch := s.c.Store.WatchService(ctx, s.id, s.rev+1)
	tick := time.NewTicker(s.c.Config.TickInterval)
	defer tick.Stop()
	if err := s.sync(ctx, true); err != nil {
		return err
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case wr, ok := <-watch:
			switch {
			case !ok:
				return ctx.Err()
			case wr.Err != nil:
				return wr.Err
			}
			err = s.observe(ctx, wr)
		case <-tick.C:
			err = s.sync(ctx, true)
		case <-s.svc.nudge:
			err = s.sync(ctx, false)
		}
		if errors.Is(err, errGone) {
			return nil // the reconciler stops tracking it
		}
		if err != nil {
			return err
		}
	}
}

// now reads the coordinator's clock.
func (s *session) now() time.Time { return s.c.Config.now() }

// name is the failover machine's name of ordinal n.
func (s *session) name(n int) string { return replicaName(s.svc.key.Name, n) }

// ordinal is the ordinal of a replica name, -1 when it is not one.
func (s *session) ordinal(name string) int {
	if n, ok := ordinalOf(s.svc.key.Name, name); ok {
		return n
	}
	return -1
}
