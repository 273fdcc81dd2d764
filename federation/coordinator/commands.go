package coordinator

import (
	"time"

	"github.com/fedstate/fedstate/replication/coord"
	"github.com/fedstate/fedstate/replication/failover"
)

// commandFor maps one of the machine's agent actions to the command record
// of its replica, as s (the state after the step) describes the replicas:
// Promote in epoch 1 is Init, Follow of a replica without data is Seed.
// It returns false for actions that are not agent commands and for
// replicas it cannot name or place.
func commandFor(a failover.Action, s *failover.State, svc string, at time.Time) (int, coord.Command, bool) {
	var name, primary string
	var c coord.Command
	switch a := a.(type) {
	case failover.Promote:
		name, primary = a.Replica, a.Replica
		c = coord.Command{Kind: coord.CommandPromote, Epoch: int64(a.Epoch)}
		if a.Epoch == 1 {
			c.Kind = coord.CommandInit
		}
	case failover.Follow:
		name, primary = a.Replica, a.Primary
		c = coord.Command{Kind: coord.CommandFollow, Epoch: int64(a.Epoch)}
		if r := s.Replica(a.Replica); r != nil && empty(r) {
			c.Kind = coord.CommandSeed
		}
	case failover.Rewind:
		name, primary = a.Replica, a.Primary
		c = coord.Command{Kind: coord.CommandRewind, Epoch: int64(a.Epoch)}
	case failover.Fence:
		name, primary = a.Replica, s.Primary
		c = coord.Command{Kind: coord.CommandFence, Epoch: int64(a.Epoch)}
	case failover.Demote:
		name, primary = a.Replica, a.Replica
		c = coord.Command{Kind: coord.CommandDemote, Epoch: int64(a.Epoch)}
	case failover.WaitReplay:
		name, primary = a.Replica, s.Primary
		c = coord.Command{Kind: coord.CommandWaitReplay, Epoch: int64(a.Epoch), Position: a.Position}
	default:
		return 0, coord.Command{}, false
	}
	return complete(c, s, svc, name, primary, at)
}

// complete fills in the ordinals and the cluster of a command.
func complete(c coord.Command, s *failover.State, svc, name, primary string, at time.Time) (int, coord.Command, bool) {
	n, ok := ordinalOf(svc, name)
	p, pok := ordinalOf(svc, primary)
	r := s.Replica(name)
	if !ok || !pok || r == nil || r.Cluster == "" {
		return 0, coord.Command{}, false
	}
	c.Primary, c.Cluster, c.Issued = p, r.Cluster, at
	return n, c, c.Validate() == nil
}

// empty says whether a replica holds no data the machine knows of: it
// never followed any epoch and reported no position.
func empty(r *failover.Replica) bool {
	return r.Epoch == 0 && r.Position == 0 && !r.Fenced
}

// seeds returns Seed commands for the replicas that joined after the
// primary was committed (scaled up) and were never told anything: no
// command, no data; and for replicas whose ordinal moved to another
// cluster since their last command. The machine commands followers when a primary is
// committed; these came later.
func seeds(s *failover.State, svc string, have map[int]coord.Command, at time.Time) map[int]coord.Command {
	ph := s.Phase
	if s.Primary == "" || (ph.Name != failover.Stable && !(ph.Name == failover.Promoting && ph.Committed)) {
		return nil
	}
	out := map[int]coord.Command{}
	for i := range s.Replicas {
		r := &s.Replicas[i]
		n, ok := ordinalOf(svc, r.Name)
		cmd, told := have[n]
		// An ordinal the hub moved to another cluster starts there without
		// data: the agent of its new cluster seeds it.
		moved := told && r.Cluster != "" && cmd.Cluster != r.Cluster
		if !ok || r.Name == s.Primary || (told && !moved) || (!moved && !empty(r)) {
			continue
		}
		c := coord.Command{Kind: coord.CommandSeed, Epoch: int64(s.Epoch)}
		if n, c, ok := complete(c, s, svc, r.Name, s.Primary, at); ok {
			out[n] = c
		}
	}
	return out
}
