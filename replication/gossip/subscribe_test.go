package gossip

import (
	"testing"
	"time"
)

func TestSubscriptionDropsOldest(t *testing.T) {
	v := newView(func(int) time.Duration { return time.Minute }, time.Hour, func() int { return 0 }, nil)
	s := &Subscription{ch: make(chan Transition, 2), unsub: v.unsubscribe}
	v.subscribe(s)
	now := time.Now()
	for _, name := range []string{"a", "b", "c", "d"} {
		v.join(nodeInfo{name: name, meta: agentMeta(name, false)}, false, now)
	}
	if got := s.Dropped(); got != 2 {
		t.Errorf("Dropped() = %d, want 2", got)
	}
	for _, want := range []string{"c", "d"} {
		if tr := <-s.C(); tr.Member.Name != want {
			t.Errorf("got %s, want %s (the newest kept, in order)", tr.Member.Name, want)
		}
	}
	s.Close()
	s.Close()
	v.join(nodeInfo{name: "e", meta: agentMeta("e", false)}, false, now)
	if _, ok := <-s.C(); ok {
		t.Error("closed subscription delivered a transition")
	}
}

func TestSubscriptionAfterClose(t *testing.T) {
	v := newView(func(int) time.Duration { return time.Minute }, time.Hour, func() int { return 0 }, nil)
	v.closeSubscriptions()
	s := &Subscription{ch: make(chan Transition, 1), unsub: v.unsubscribe}
	if v.subscribe(s) {
		t.Fatal("subscribe after closeSubscriptions succeeded")
	}
}
