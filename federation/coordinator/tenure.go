package coordinator

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/fedstate/fedstate/replication/coord"
)

// tenure is one term of this hub's etcd leadership. Sessions run under
// its context, which ends with the term.
type tenure struct {
	guard coord.LeaderGuard
	ctx   context.Context
	// end ends the term early, for a session that found its writes
	// fenced.
	end context.CancelFunc
	wg  sync.WaitGroup
}

// service is one service in PrimaryReplica mode that the coordinator
// tracks, across tenures.
type service struct {
	key types.NamespacedName
	// nudge asks the session to look at the service's object again.
	nudge chan struct{}
	// stop ends the session of the current tenure; nil when none runs.
	stop context.CancelFunc
	// done is closed when the session of the current tenure has ended.
	done chan struct{}
}

// lead campaigns for the etcd leadership and, while it is held,
// coordinates the tracked services; it returns when ctx ends (the manager
// stops or loses the hub cluster's leader election).
func (c *Coordinator) lead(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("failover")
	for ctx.Err() == nil {
		leader, err := c.Store.Campaign(ctx, c.Config.ID)
		if err != nil {
			if ctx.Err() == nil {
				log.Error(err, "Campaign for the failover leadership")
				sleep(ctx, c.Config.RetryInterval)
			}
			continue
		}
		log.Info("Leading failover coordination", "id", c.Config.ID, "key", leader.Guard().Key)
		leaderGauge.Set(1)
		tctx, end := context.WithCancel(ctx)
		t := &tenure{guard: leader.Guard(), ctx: tctx, end: end}
		c.begin(t)
		select {
		case <-leader.Done():
		case <-tctx.Done():
		}
		end()
		c.finish(t)
		leaderGauge.Set(0)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.Config.RetryInterval+5*time.Second)
		if err := leader.Resign(rctx); err != nil {
			log.Error(err, "Resign the failover leadership")
		}
		cancel()
		log.Info("Stopped leading failover coordination", "id", c.Config.ID)
	}
	return nil
}

// begin starts the sessions of every tracked service under t.
func (c *Coordinator) begin(t *tenure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ten = t
	for _, s := range c.services {
		c.start(t, s)
	}
}

// finish waits for t's sessions, whose context has ended.
func (c *Coordinator) finish(t *tenure) {
	c.mu.Lock()
	if c.ten == t {
		c.ten = nil
	}
	for _, s := range c.services {
		s.stop, s.done = nil, nil
	}
	c.mu.Unlock()
	t.wg.Wait()
}

// current returns the tenure, or nil without leadership.
func (c *Coordinator) current() *tenure {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ten
}

// track starts or stops coordinating a service, and nudges a running
// session. Stopping returns a channel closed once the stopped session
// has ended (nil when none ran).
func (c *Coordinator) track(key types.NamespacedName, wanted bool) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.services[key]
	var ended <-chan struct{}
	switch {
	case wanted && s == nil:
		s = &service{key: key, nudge: make(chan struct{}, 1)}
		c.services[key] = s
		if c.ten != nil {
			c.start(c.ten, s)
		}
	case !wanted && s != nil:
		if s.stop != nil {
			s.stop()
			ended = s.done
		}
		delete(c.services, key)
	}
	servicesGauge.Set(float64(len(c.services)))
	if !wanted {
		return ended
	}
	select {
	case s.nudge <- struct{}{}:
	default:
	}
	return nil
}

// start runs the service's sessions under t until t ends or the service
// is no longer tracked. c.mu is held.
func (c *Coordinator) start(t *tenure, s *service) {
	ctx, stop := context.WithCancel(t.ctx)
	done := make(chan struct{})
	s.stop, s.done = stop, done
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer close(done)
		defer stop()
		c.coordinate(ctx, t, s)
	}()
}

// coordinate runs sessions of one service, each from a fresh snapshot,
// until ctx ends; a fenced write ends the tenure.
func (c *Coordinator) coordinate(ctx context.Context, t *tenure, s *service) {
	log := ctrl.LoggerFrom(t.ctx).WithName("failover").WithValues("service", s.key.String())
	ctx = ctrl.LoggerInto(ctx, log)
	for ctx.Err() == nil {
		err := newSession(c, t, s).run(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, coord.ErrFenced):
			log.Info("The failover leadership ended under a write", "reason", err.Error())
			t.end()
			return
		case errors.Is(err, errGone):
			// Deleted or no longer PrimaryReplica: the controller stops
			// tracking it.
		case err != nil:
			sessionErrorsTotal.Inc()
			log.Error(err, "Coordinate the service; starting over from etcd")
		}
		sleep(ctx, c.Config.RetryInterval)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
