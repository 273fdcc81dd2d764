package gossip

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// step is one input to a view in TestViewTransitions.
type step struct {
	at     int // seconds after t0
	do     string
	node   string
	arg    int    // confirmations for "declared"
	leaves bool   // metadata with the Leaving flag, for "join"/"update"
	expect string // transitions emitted, "" for none: "node:from->to" joined by ","
}

func agentMeta(cluster string, leaving bool) []byte {
	b, err := Meta{Role: RoleAgent, Cluster: cluster, Leaving: leaving}.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

func TestViewTransitions(t *testing.T) {
	const window = 7 * time.Second
	tests := []struct {
		name  string
		steps []step
		check func(t *testing.T, trs []Transition)
	}{
		{
			name: "crash seen by own probe, declared here",
			steps: []step{
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 1, do: "directMiss", node: "a"},
				{at: 2, do: "probeFailed", node: "a", expect: "a:alive->suspect"},
				{at: 5, do: "declared", node: "a", arg: 1},
				{at: 5, do: "leave", node: "a", expect: "a:suspect->dead"},
			},
			check: func(t *testing.T, trs []Transition) {
				d := trs[len(trs)-1]
				if !d.DeclaredHere || d.Confirmations != 1 || !d.SuspectedHere || !d.Corroborated() {
					t.Errorf("death %+v: want declared here, 1 confirmation, suspected here, corroborated", d)
				}
			},
		},
		{
			name: "alone in its view",
			steps: []step{
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 2, do: "probeFailed", node: "a", expect: "a:alive->suspect"},
				{at: 8, do: "declared", node: "a"},
				{at: 8, do: "leave", node: "a", expect: "a:suspect->dead"},
			},
			check: func(t *testing.T, trs []Transition) {
				if d := trs[len(trs)-1]; d.Corroborated() {
					t.Errorf("death %+v on this node's view alone: Corroborated", d)
				}
			},
		},
		{
			name: "death by gossip",
			steps: []step{
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 3, do: "leave", node: "a", expect: "a:alive->dead"},
			},
			check: func(t *testing.T, trs []Transition) {
				if d := trs[len(trs)-1]; d.DeclaredHere || !d.Corroborated() {
					t.Errorf("death %+v learned by gossip: want not declared here, corroborated", d)
				}
			},
		},
		{
			name: "refuted by a direct ack",
			steps: []step{
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 2, do: "probeFailed", node: "a", expect: "a:alive->suspect"},
				{at: 3, do: "ack", node: "a", expect: "a:suspect->alive"},
				{at: 4, do: "ack", node: "a"},
			},
		},
		{
			name: "refuted when the window passes",
			steps: []step{
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 2, do: "probeFailed", node: "a", expect: "a:alive->suspect"},
				{at: 8, do: "tick"},
				{at: 9, do: "tick", expect: "a:suspect->alive"},
			},
		},
		{
			name: "a stale declaration is forgotten on rejoin",
			steps: []step{
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 2, do: "probeFailed", node: "a", expect: "a:alive->suspect"},
				{at: 4, do: "leave", node: "a", expect: "a:suspect->dead"},
				{at: 4, do: "declared", node: "a"}, // too late: ignored, a is dead
				{at: 6, do: "join", node: "a", expect: "a:dead->alive"},
				{at: 9, do: "leave", node: "a", expect: "a:alive->dead"},
			},
			check: func(t *testing.T, trs []Transition) {
				if d := trs[len(trs)-1]; d.DeclaredHere || d.SuspectedHere {
					t.Errorf("second death %+v carries the first one's details", d)
				}
			},
		},
		{
			name: "leave after the leaving flag",
			steps: []step{
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 1, do: "update", node: "a", leaves: true, expect: "a:alive->alive"},
				{at: 1, do: "leave", node: "a", expect: "a:alive->left"},
				{at: 5, do: "join", node: "a", expect: "a:left->alive"},
			},
		},
		{
			name: "signals about unknown, dead or self are ignored",
			steps: []step{
				{do: "probeFailed", node: "x"},
				{do: "join", node: "self", expect: "self:unknown->alive"},
				{do: "probeFailed", node: "self"},
				{do: "join", node: "a", expect: "a:unknown->alive"},
				{at: 1, do: "leave", node: "a", expect: "a:alive->dead"},
				{at: 2, do: "probeFailed", node: "a"},
				{at: 2, do: "ack", node: "a"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newView(func(int) time.Duration { return window }, time.Hour, func() int { return 0 }, nil)
			sub := &Subscription{ch: make(chan Transition, 100), unsub: v.unsubscribe}
			v.subscribe(sub)
			t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			var all []Transition
			for i, s := range tt.steps {
				now := t0.Add(time.Duration(s.at) * time.Second)
				info := nodeInfo{name: s.node, addr: "127.0.0.1:7946", meta: agentMeta("c-"+s.node, s.leaves)}
				switch s.do {
				case "join":
					v.join(info, s.node == "self", now)
				case "update":
					v.update(info, now)
				case "leave":
					v.leave(s.node, now)
				case "probeFailed":
					v.signal(signal{kind: sigProbeFailed, node: s.node}, now)
				case "directMiss":
					v.signal(signal{kind: sigDirectMiss, node: s.node}, now)
				case "declared":
					v.signal(signal{kind: sigDeclared, node: s.node, confirmations: s.arg}, now)
				case "ack":
					v.directAck(s.node, now)
				case "tick":
					v.tick(now)
				default:
					t.Fatalf("step %d: unknown %q", i, s.do)
				}
				var got []string
				for len(sub.C()) > 0 {
					tr := <-sub.C()
					all = append(all, tr)
					got = append(got, fmt.Sprintf("%s:%s->%s", tr.Member.Name, tr.From, tr.To))
					if !tr.At.Equal(now) || tr.Member.State != tr.To {
						t.Errorf("step %d: transition %+v at %v, member state %v", i, tr, now, tr.Member.State)
					}
				}
				if want := splitNonEmpty(s.expect); !slices.Equal(got, want) {
					t.Fatalf("step %d (%s %s): transitions %q, want %q", i, s.do, s.node, got, want)
				}
			}
			if tt.check != nil {
				tt.check(t, all)
			}
		})
	}
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func TestViewDirectProbeFailed(t *testing.T) {
	v := newView(func(int) time.Duration { return time.Minute }, time.Hour, func() int { return 0 }, nil)
	now := time.Now()
	v.join(nodeInfo{name: "a", meta: agentMeta("eu-1", false)}, false, now)
	v.signal(signal{kind: sigDirectMiss, node: "a"}, now)
	if m := v.snapshot()[0]; !m.DirectProbeFailed || m.State != StateAlive {
		t.Fatalf("after a direct miss: %+v, want alive with DirectProbeFailed", m)
	}
	v.directAck("a", now)
	if m := v.snapshot()[0]; m.DirectProbeFailed {
		t.Fatalf("after a direct ack: %+v, want DirectProbeFailed cleared", m)
	}
}

func TestClusterState(t *testing.T) {
	v := newView(func(int) time.Duration { return time.Minute }, time.Hour, func() int { return 0 }, nil)
	now := time.Now()
	hub, err := Meta{Role: RoleHub, Cluster: "eu-1"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	v.join(nodeInfo{name: "hub", meta: hub}, false, now)
	if got := v.clusterState("eu-1"); got != StateUnknown {
		t.Fatalf("cluster with only a hub = %v, want unknown", got)
	}
	v.join(nodeInfo{name: "a1", meta: agentMeta("eu-1", false)}, false, now)
	v.join(nodeInfo{name: "a2", meta: agentMeta("eu-1", false)}, false, now)
	steps := []struct {
		name string
		do   func()
		want State
	}{
		{name: "both alive", do: func() {}, want: StateAlive},
		{name: "one suspect", do: func() { v.signal(signal{kind: sigProbeFailed, node: "a1"}, now) }, want: StateAlive},
		{name: "both suspect", do: func() { v.signal(signal{kind: sigProbeFailed, node: "a2"}, now) }, want: StateSuspect},
		{name: "one dead", do: func() { v.leave("a1", now) }, want: StateSuspect},
		{name: "both dead", do: func() { v.leave("a2", now) }, want: StateDead},
		{name: "one back", do: func() { v.join(nodeInfo{name: "a2", meta: agentMeta("eu-1", false)}, false, now) }, want: StateAlive},
	}
	for _, s := range steps {
		s.do()
		if got := v.clusterState("eu-1"); got != s.want {
			t.Fatalf("%s: ClusterState = %v, want %v", s.name, got, s.want)
		}
	}
	v.tick(now.Add(2 * time.Hour))
	if got := len(v.snapshot()); got != 2 {
		t.Fatalf("after ForgetAfter: %d members, want 2 (the dead one forgotten)", got)
	}
}
