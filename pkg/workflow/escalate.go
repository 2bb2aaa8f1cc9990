package workflow

import (
	"slices"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Escalation: a rule with escalate_after and escalate_to lets the
// escalation group fill its requirements still unmet that long after the
// request was made. The sweeper records each escalation once, when it is
// due (request.escalated, the hook for telling the group), and only from
// then does the group count: a requirement is escalated when its time is
// at or before the request's EscalatedAt.

// requirementsOf returns what r needs under p, with the escalations
// recorded so far applied.
func requirementsOf(p *policy.Policy, r *store.Request) []policy.Requirement {
	reqs, _ := p.Requirements(r.Role, r.Resources)
	return policy.Escalate(reqs, r.CreatedAt, r.EscalatedAt)
}

// nextEscalation is when r's next escalation after after is due, if that
// is before r's pending deadline; zero otherwise.
func nextEscalation(reqs []policy.Requirement, r *store.Request, after time.Time) time.Time {
	at, ok := policy.NextEscalation(reqs, r.CreatedAt, after)
	if !ok || !at.Before(r.PendingUntil) {
		return time.Time{}
	}
	return at
}

// escalate records, for pending request r whose escalation is due at now,
// the requirements that escalate now and are still unmet (one
// request.escalated row naming the groups now asked), and schedules the
// next escalation.
func (s *Service) escalate(tx store.Tx, r *store.Request, now time.Time) error {
	p := s.policy()
	reqs, _ := p.Requirements(r.Role, r.Resources)
	approvals, err := tx.Approvals(r.ID)
	if err != nil {
		return err
	}
	unmet := p.Outstanding(r.User, policy.Escalate(reqs, r.CreatedAt, r.EscalatedAt), approverNames(approvals))
	var due []policy.Requirement
	var groups []string
	for _, q := range unmet {
		if at, ok := q.EscalatesAt(r.CreatedAt); ok && !q.Escalated && !at.After(now) {
			due = append(due, q)
			groups = append(groups, q.EscalateTo)
		}
	}
	slices.Sort(groups)
	r.EscalateAt = nextEscalation(reqs, r, now)
	if len(due) > 0 {
		r.EscalatedAt = now
	}
	if err := tx.UpdateRequest(r, store.Pending); err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	if err := record(tx, audit.Event{Time: now, Actor: "system", Action: "request.escalated", Subject: r.ID,
		Detail: map[string]any{"escalate_to": slices.Compact(groups), "requirements": describeRequirements(due),
			"user": r.User, "role": r.Role, "resources": r.Resources}}); err != nil {
		return err
	}
	return s.notifyEscalated(tx, r)
}
