package failover

import (
	"fmt"
	"strings"
	"time"
)

// ConditionStatus is the status of a condition, as in metav1.Condition.
type ConditionStatus string

// Condition statuses.
const (
	ConditionTrue  ConditionStatus = "True"
	ConditionFalse ConditionStatus = "False"
)

// ConditionFailingOver is the type of the one condition the machine
// publishes, the API's FailingOver.
const ConditionFailingOver = "FailingOver"

// Reasons of the FailingOver condition.
const (
	// ReasonPrimaryHealthy: the committed primary holds its lease (False).
	ReasonPrimaryHealthy = "PrimaryHealthy"
	// ReasonPrimaryLost: the lease expired; the detection grace runs.
	ReasonPrimaryLost = "PrimaryLost"
	// ReasonWaitingForOperator: Manual mode; the message names the
	// candidate and the command that promotes it.
	ReasonWaitingForOperator = "WaitingForOperator"
	// ReasonNoCandidate: no replica may be promoted; the message says why
	// for each replica and what a person can do.
	ReasonNoCandidate = "NoCandidate"
	// ReasonPromoting: a promotion is being committed or carried out.
	ReasonPromoting = "Promoting"
	// ReasonSwitchover: a planned switchover is under way.
	ReasonSwitchover = "Switchover"
)

// Condition is the service's FailingOver condition; the hub turns it into
// a metav1.Condition.
type Condition struct {
	// Type is ConditionFailingOver.
	Type string `json:"type"`
	// Status is True while the primary is lost or being replaced.
	Status ConditionStatus `json:"status"`
	// Reason is one of the Reason constants.
	Reason string `json:"reason"`
	// Message says what happened, naming replicas with their clusters,
	// and what a person can do.
	Message string `json:"message"`
}

// condition says what the service's FailingOver condition is in s at now.
func (s *State) condition(now time.Time) Condition {
	c := Condition{Type: ConditionFailingOver, Status: ConditionTrue}
	ph := s.Phase
	switch ph.Name {
	case Stable:
		c.Status, c.Reason = ConditionFalse, ReasonPrimaryHealthy
		c.Message = fmt.Sprintf("%s is primary in epoch %d", s.where(s.Primary), s.Epoch)
	case PrimaryLost:
		if grace := s.Policy.DetectionGrace; now.Before(ph.Since.Add(grace)) {
			c.Reason = ReasonPrimaryLost
			c.Message = fmt.Sprintf("%s; waiting out the detection grace of %s before choosing a new primary", ph.Note, grace)
			break
		}
		c.Reason = ReasonWaitingForOperator
		c.Message = ph.Note + "; failover is Manual"
		if v, ok := s.pick(ph.From, choice{}); ok {
			c.Message += fmt.Sprintf(": run `fedctl failover %s` to promote %s (%s)", s.Service, s.where(v.name), lossText(v.loss))
		}
	case NoCandidate:
		c.Reason = ReasonNoCandidate
		c.Message = ph.Note + "; " + s.noCandidate(ph.From)
	case Promoting:
		c.Reason = ReasonPromoting
		if ph.Committed {
			c.Message = fmt.Sprintf("%s is committed as primary in epoch %d; waiting for it to promote (%s)", s.where(ph.Candidate), ph.Epoch, lossText(ph.LossBytes))
		} else {
			c.Message = fmt.Sprintf("committing %s as primary in epoch %d (%s)", s.where(ph.Candidate), ph.Epoch, lossText(ph.LossBytes))
		}
		if ph.Note != "" {
			c.Message = ph.Note + "; " + c.Message
		}
	case SwitchingOver:
		c.Reason = ReasonSwitchover
		c.Message = fmt.Sprintf("switchover from %s to %s: ", s.where(ph.From), s.where(ph.Candidate))
		if ph.Step == Demoting {
			c.Message += fmt.Sprintf("demoting %s", ph.From)
		} else {
			pos := uint64(0)
			if t := s.Replica(ph.Candidate); t != nil {
				pos = effective(t)
			}
			c.Message += fmt.Sprintf("waiting for %s to replay up to %d (at %d)", ph.Candidate, ph.Final, pos)
		}
	}
	return c
}

// lossText describes an estimated loss.
func lossText(loss uint64) string {
	if loss == 0 {
		return "no data loss"
	}
	return "about " + bytesText(loss) + " lost"
}

// budgetText describes the RPO budget.
func (s *State) budgetText() string {
	rpo := s.Policy.RPO
	var parts []string
	if rpo != nil && rpo.MaxLagBytes != nil {
		parts = append(parts, bytesText(*rpo.MaxLagBytes))
	}
	if rpo != nil && rpo.MaxLag != nil {
		parts = append(parts, rpo.MaxLag.String())
	}
	if len(parts) == 0 {
		return "with no data loss (no RPO budget is set)"
	}
	return "within the RPO budget of " + strings.Join(parts, " and ")
}

// noCandidate explains why no replica may replace from, replica by replica
// in name order, and what a person can do.
func (s *State) noCandidate(from string) string {
	var why []string
	for i := range s.Replicas {
		if r := &s.Replicas[i]; r.Name != from {
			why = append(why, s.where(r.Name)+" "+s.judge(r, from).reason)
		}
	}
	if len(why) == 0 {
		return "no replica to promote: the service has no other replica"
	}
	if v, ok := s.pick(from, choice{acceptLoss: true}); ok {
		return fmt.Sprintf("no candidate %s: %s; run `fedctl failover %s --accept-data-loss` to promote %s (%s), or wait for a replica to catch up",
			s.budgetText(), strings.Join(why, "; "), s.Service, s.where(v.name), lossText(v.loss))
	}
	return fmt.Sprintf("no replica can be promoted: %s; bring a replica's cluster back or allow it in the placement", strings.Join(why, "; "))
}
