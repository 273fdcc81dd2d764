package gossip

import (
	"sync"
	"sync/atomic"
)

// Subscription receives the transitions of one node's view of the pool.
// Delivery never blocks the pool: when the buffer is full the oldest
// undelivered transition is dropped to make room for the newest, and
// Dropped counts it. A consumer that misses transitions loses history,
// not the present: Pool.Members and Pool.ClusterState always give the
// current view.
type Subscription struct {
	// mu serialises deliveries, so that drop-oldest keeps the order.
	mu      sync.Mutex
	closed  bool
	ch      chan Transition
	dropped atomic.Uint64
	close   sync.Once
	unsub   func(*Subscription)
}

// C returns the channel of transitions, in the order this node saw them.
// It is closed by Close and by Pool.Shutdown.
func (s *Subscription) C() <-chan Transition { return s.ch }

// Dropped returns how many transitions were dropped because the buffer
// was full. Safe for concurrent use.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription and closes C. Safe to call more than once
// and concurrently with deliveries.
func (s *Subscription) Close() {
	s.close.Do(func() {
		s.unsub(s)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		close(s.ch)
	})
}

// deliver queues tr without blocking, dropping the oldest queued
// transition when the buffer is full. It returns whether one was dropped.
func (s *Subscription) deliver(tr Transition) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	dropped := false
	for {
		select {
		case s.ch <- tr:
			return dropped
		default:
		}
		select {
		case <-s.ch:
			s.dropped.Add(1)
			dropped = true
		default:
		}
	}
}
