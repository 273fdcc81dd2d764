package failover

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotNew is returned by Bootstrap for a service that had a primary or
// is already choosing its first one.
var ErrNotNew = errors.New("failover: the service is not new")

// Bootstrap starts the first promotion of a service that never had a
// primary: s has epoch 0, no primary and no phase yet, and lists the
// replicas. The executor chooses candidate (the machine cannot: no replica
// has data to compare); Bootstrap returns the state in Promoting for epoch
// 1 with cause CauseBootstrap, and the actions CommitPromotion and the
// condition. From there the promotion runs like any other:
// PromotionCommitted emits Promote for the candidate and Follow for the
// others, Promoted returns to Stable. It reads no clock: at is now.
func Bootstrap(s State, candidate string, at time.Time) (State, []Action, error) {
	switch {
	case s.Epoch != 0 || s.Primary != "" || s.Phase.Name != "":
		return s, nil, fmt.Errorf("%w: epoch %d, primary %q, phase %q", ErrNotNew, s.Epoch, s.Primary, s.Phase.Name)
	case s.Replica(candidate) == nil:
		return s, nil, fmt.Errorf("failover: bootstrap candidate %q is not a replica", candidate)
	}
	m := &machine{s: s.clone(), now: at}
	m.s.Phase = Phase{Name: Promoting, Cause: CauseBootstrap, Since: at,
		Note: "the service has no primary yet"}
	m.startCommit(candidate, 0, false, false)
	if err := m.s.Validate(); err != nil {
		return s, nil, err
	}
	m.s.Condition = m.s.condition(at)
	m.emit(SetCondition{Condition: m.s.Condition})
	return m.s, m.acts, nil
}
