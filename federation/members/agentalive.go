package members

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/gossip"
)

// agentView is what the hub knows of one member cluster's agents: the
// sessions in the federation etcd and the hub's own view of the gossip
// pool.
type agentView struct {
	// sessions are the agents holding a live session for the cluster,
	// sorted.
	sessions []string
	// inPool is false when the hub is not in the gossip pool.
	inPool bool
	// agents are the cluster's agents in the hub's gossip view, sorted by
	// name.
	agents []gossipAgent
}

// gossipAgent is one agent as the hub's gossip node sees it.
type gossipAgent struct {
	name  string
	state gossip.State
	// directProbeFailed: the hub's last direct probe of the agent got no
	// ack (gossip.Member.DirectProbeFailed).
	directProbeFailed bool
	// corroborated: the transition that made the agent dead, as the hub
	// saw it, had other members' part in it. False when the hub did not
	// see it.
	corroborated bool
}

// gossipVerdict folds a cluster's agents in the hub's gossip view.
type gossipVerdict struct {
	// state is Alive if any agent is alive, else Suspect, Dead, Left or
	// Unknown, as gossip.Pool.ClusterState folds them.
	state gossip.State
	// names are the agents in that state.
	names []string
	// hubCannotProbe (Alive): no alive agent answered the hub's last
	// direct probe; other members vouch for them.
	hubCannotProbe bool
	// corroborated (Dead): at least one death had other members' part in
	// it.
	corroborated bool
}

// verdict folds v's agents.
func (v agentView) verdict() gossipVerdict {
	rank := map[gossip.State]int{gossip.StateUnknown: 0, gossip.StateLeft: 1, gossip.StateDead: 2, gossip.StateSuspect: 3, gossip.StateAlive: 4}
	g := gossipVerdict{state: gossip.StateUnknown}
	for _, a := range v.agents {
		if rank[a.state] > rank[g.state] {
			g = gossipVerdict{state: a.state}
		}
		if a.state != g.state {
			continue
		}
		g.names = append(g.names, a.name)
		if a.state == gossip.StateDead && a.corroborated {
			g.corroborated = true
		}
	}
	if g.state == gossip.StateAlive {
		g.hubCannotProbe = !slices.ContainsFunc(v.agents, func(a gossipAgent) bool {
			return a.state == gossip.StateAlive && !a.directProbeFailed
		})
	}
	return g
}

// suspected reports whether gossip declares every agent of the cluster
// dead, at least one death corroborated, and says so in a note.
func (g gossipVerdict) suspected() (string, bool) {
	if g.state != gossip.StateDead || !g.corroborated {
		return "", false
	}
	return fmt.Sprintf("gossip declares %s dead, corroborated by other members of the pool", agentNames(g.names)), true
}

// agentAlive returns the AgentAlive condition of a member cluster (type,
// status, reason and message; the caller sets the rest). The etcd session
// decides unless gossip adds something: a corroborated death or a planned
// leave makes it False even while the session lingers, a suspicion makes
// it Unknown, and what rests on the hub's view alone — a failed direct
// probe, a death nobody else confirmed — never makes it False.
func agentAlive(cluster string, v agentView) metav1.Condition {
	cond := func(status metav1.ConditionStatus, reason, format string, args ...any) metav1.Condition {
		return metav1.Condition{Type: v1alpha1.MemberAgentAlive, Status: status, Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
	g := v.verdict()
	session := len(v.sessions) > 0
	held := fmt.Sprintf("%s holds its etcd session", agentNames(v.sessions))
	if len(v.sessions) > 1 {
		held = fmt.Sprintf("%s hold etcd sessions", agentNames(v.sessions))
	}
	sessionNote := "its etcd session lasts until its lease expires"
	if !session {
		sessionNote = "no agent of " + cluster + " holds an etcd session"
	}
	names := agentNames(g.names)
	switch {
	case g.state == gossip.StateDead && g.corroborated:
		return cond(metav1.ConditionFalse, v1alpha1.ReasonGossipDead,
			"Gossip declares %s dead, corroborated by other members of the pool; %s", names, sessionNote)
	case g.state == gossip.StateLeft:
		return cond(metav1.ConditionFalse, v1alpha1.ReasonAgentLeft,
			"%s left the gossip pool (a planned stop); %s", capitalize(names), sessionNote)
	case !session:
		msg := "No agent of " + cluster + " holds a session in the federation etcd"
		switch g.state {
		case gossip.StateAlive:
			msg += fmt.Sprintf("; gossip still reaches %s: the agent cannot reach the federation etcd, and its primaries fence themselves", names)
		case gossip.StateSuspect:
			msg += fmt.Sprintf("; gossip suspects %s", names)
		case gossip.StateDead:
			msg += fmt.Sprintf("; the hub's gossip probes declared %s dead, which no other member confirmed", names)
		}
		return cond(metav1.ConditionFalse, v1alpha1.ReasonNoSession, "%s", msg)
	case g.state == gossip.StateSuspect:
		return cond(metav1.ConditionUnknown, v1alpha1.ReasonGossipSuspect,
			"Gossip suspects %s: the hub's probes got no answer, directly or through other members; %s", names, held)
	case g.state == gossip.StateDead:
		return cond(metav1.ConditionTrue, v1alpha1.ReasonHubCannotProbe,
			"%s; the hub's own gossip probes declared it dead but no other member confirmed: the hub may be the one cut off", capitalize(held))
	case g.state == gossip.StateAlive && g.hubCannotProbe:
		return cond(metav1.ConditionTrue, v1alpha1.ReasonHubCannotProbe,
			"%s; the hub cannot probe it directly but other members of the gossip pool reach it: the network between the hub and %s is cut", capitalize(held), names)
	case g.state == gossip.StateAlive:
		return cond(metav1.ConditionTrue, v1alpha1.ReasonSessionAlive, "%s and answers the hub's gossip probes", capitalize(held))
	case v.inPool:
		return cond(metav1.ConditionTrue, v1alpha1.ReasonSessionAlive, "%s; no agent of %s is in the gossip pool", capitalize(held), cluster)
	default:
		return cond(metav1.ConditionTrue, v1alpha1.ReasonSessionAlive, "%s", capitalize(held))
	}
}

// agentNames lists agents for a message: "agent agent-eu-1", "agents a and b".
func agentNames(names []string) string {
	switch len(names) {
	case 0:
		return "no agent"
	case 1:
		return "agent " + names[0]
	default:
		return "agents " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
}

// capitalize upper-cases the first letter of an ASCII message.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
