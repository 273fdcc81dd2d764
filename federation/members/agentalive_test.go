package members

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/gossip"
)

func TestAgentAliveCondition(t *testing.T) {
	const name = "agent-eu-1"
	agent := func(state gossip.State) gossipAgent { return gossipAgent{name: name, state: state} }
	session := []string{name}
	tests := []struct {
		name      string
		view      agentView
		status    metav1.ConditionStatus
		reason    string
		mentions  []string
		suspected bool
	}{
		{name: "session, no gossip", view: agentView{sessions: session},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonSessionAlive, mentions: []string{"Agent agent-eu-1 holds its etcd session"}},
		{name: "session, not in the pool", view: agentView{sessions: session, inPool: true},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonSessionAlive, mentions: []string{"no agent of eu-1 is in the gossip pool"}},
		{name: "session, alive in gossip", view: agentView{sessions: session, inPool: true, agents: []gossipAgent{agent(gossip.StateAlive)}},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonSessionAlive, mentions: []string{"answers the hub's gossip probes"}},
		{name: "no session, no gossip", view: agentView{},
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonNoSession, mentions: []string{"No agent of eu-1 holds a session"}},
		{
			name:   "hub cannot probe, others vouch",
			view:   agentView{sessions: session, inPool: true, agents: []gossipAgent{{name: name, state: gossip.StateAlive, directProbeFailed: true}}},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonHubCannotProbe, mentions: []string{"cannot probe it directly", "other members"},
		},
		{
			name: "one of two agents answers the hub directly",
			view: agentView{sessions: session, inPool: true, agents: []gossipAgent{
				{name: "a", state: gossip.StateAlive, directProbeFailed: true}, {name: "b", state: gossip.StateAlive}}},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonSessionAlive,
		},
		{name: "suspect, session alive", view: agentView{sessions: session, inPool: true, agents: []gossipAgent{agent(gossip.StateSuspect)}},
			status: metav1.ConditionUnknown, reason: v1alpha1.ReasonGossipSuspect, mentions: []string{"Gossip suspects agent agent-eu-1", "holds its etcd session"}},
		{
			name:   "dead, corroborated, session lingers",
			view:   agentView{sessions: session, inPool: true, agents: []gossipAgent{{name: name, state: gossip.StateDead, corroborated: true}}},
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonGossipDead, mentions: []string{"corroborated", "until its lease expires"}, suspected: true,
		},
		{
			name:   "dead, corroborated, session ended",
			view:   agentView{inPool: true, agents: []gossipAgent{{name: name, state: gossip.StateDead, corroborated: true}}},
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonGossipDead, mentions: []string{"no agent of eu-1 holds an etcd session"}, suspected: true,
		},
		{
			name:   "dead in the hub's view alone, session alive",
			view:   agentView{sessions: session, inPool: true, agents: []gossipAgent{agent(gossip.StateDead)}},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonHubCannotProbe, mentions: []string{"no other member confirmed"},
		},
		{
			name:   "dead in the hub's view alone, no session",
			view:   agentView{inPool: true, agents: []gossipAgent{agent(gossip.StateDead)}},
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonNoSession, mentions: []string{"which no other member confirmed"},
		},
		{
			name:   "alive in gossip, no session: cut from etcd",
			view:   agentView{inPool: true, agents: []gossipAgent{agent(gossip.StateAlive)}},
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonNoSession, mentions: []string{"cannot reach the federation etcd"},
		},
		{name: "left, session lingers", view: agentView{sessions: session, inPool: true, agents: []gossipAgent{agent(gossip.StateLeft)}},
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonAgentLeft, mentions: []string{"Agent agent-eu-1 left the gossip pool"}},
		{
			name: "a restarted agent alive beside its dead incarnation",
			view: agentView{sessions: session, inPool: true, agents: []gossipAgent{
				{name: "agent-eu-1-old", state: gossip.StateDead, corroborated: true}, agent(gossip.StateAlive)}},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonSessionAlive,
		},
		{
			name:   "two sessions",
			view:   agentView{sessions: []string{"a", "b"}},
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonSessionAlive, mentions: []string{"Agents a and b hold etcd sessions"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := agentAlive("eu-1", tt.view)
			if c.Type != v1alpha1.MemberAgentAlive || c.Status != tt.status || c.Reason != tt.reason {
				t.Errorf("agentAlive = %s %s/%s (%q), want %s/%s", c.Type, c.Status, c.Reason, c.Message, tt.status, tt.reason)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(c.Message, m) {
					t.Errorf("message %q does not mention %q", c.Message, m)
				}
			}
			note, suspected := tt.view.verdict().suspected()
			if suspected != tt.suspected || suspected != (note != "") {
				t.Errorf("suspected() = %q, %v; want %v", note, suspected, tt.suspected)
			}
		})
	}
}
