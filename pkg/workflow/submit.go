package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Submission is what an engineer asks for.
type Submission struct {
	Role      string
	Resources []string
	Duration  time.Duration
	Reason    string
	Ticket    string
	// Start asks for a window that starts later (a scheduled window); the
	// zero Start starts it at approval.
	Start Start
}

// ErrRejected wraps the policy's reason when a request is rejected at
// once. The rejected request is stored and audited; Submit returns it
// beside the error.
var ErrRejected = errors.New("request rejected")

// Submit checks sub against the policy and the user's open requests, and
// stores it: rejected (with the reason, also returned as an error
// wrapping ErrRejected and the policy's named error), approved at once if
// the policy auto-approves it, or pending.
//
// A pending request waits for a decision at most the CA's pending timeout,
// or the shortest pending_timeout of its resources, and never past the
// end of its own scheduled window.
func (s *Service) Submit(ctx context.Context, actor Actor, sub Submission) (*store.Request, error) {
	if !actor.IsUser() {
		return nil, fmt.Errorf("%w: only people request access", ErrForbidden)
	}
	id, err := s.newID()
	if err != nil {
		return nil, err
	}
	var out *store.Request
	err = s.update(ctx, func(tx store.Tx) error {
		now := s.now()
		r := &store.Request{
			ID: id, User: actor.User(), Role: sub.Role, Resources: append([]string(nil), sub.Resources...),
			Duration: sub.Duration, Reason: sub.Reason, Ticket: sub.Ticket, CreatedAt: now,
		}
		out = r
		setResult(ctx, r)
		if err := checkActive(tx, r.User); err != nil {
			return s.refuse(tx, actor, "request.refused", r.User, err, nil)
		}
		pending, active, err := tx.CountOpen(r.User, now)
		if err != nil {
			return err
		}
		p := s.policy()
		check := p.CheckRequest(policy.Request{User: r.User, Role: r.Role, Resources: r.Resources,
			Duration: r.Duration, Reason: r.Reason, Ticket: r.Ticket}, policy.Counts{Active: active, Pending: pending}, now)
		if check != nil {
			return s.reject(tx, actor, r, check)
		}
		if r.Start, err = resolveStart(sub.Start, now); err != nil {
			return s.reject(tx, actor, r, err)
		}
		reqs, auto := p.Requirements(r.Role, r.Resources)
		if auto {
			r.State, r.DecidedAt, r.DecidedBy, r.Decision = store.Approved, now, "policy", "auto-approved by role "+r.Role
			r.NotBefore, r.NotAfter = GrantWindow(r, nil, now)
		} else {
			r.State, r.PendingUntil = store.Pending, now.Add(p.PendingTimeout(r.Resources, s.cfg.PendingTimeout))
			if !r.Start.IsZero() && r.Start.Add(r.Duration).Before(r.PendingUntil) {
				r.PendingUntil = r.Start.Add(r.Duration)
			}
			r.EscalateAt = nextEscalation(reqs, r, now)
		}
		if err := tx.CreateRequest(r); err != nil {
			return err
		}
		detail := requestDetail(r)
		detail["requires"] = describeRequirements(reqs)
		if !auto {
			detail["pending_until"] = r.PendingUntil
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: "request.submitted", Subject: r.ID, Detail: detail}); err != nil {
			return err
		}
		if auto {
			if err := record(tx, audit.Event{Time: now, Actor: "system", Action: "request.approved", Subject: r.ID,
				Detail: map[string]any{"auto": true, "not_before": r.NotBefore, "not_after": r.NotAfter}}); err != nil {
				return err
			}
			return s.notifyRequest(tx, notify.RequestDecided, r, []string{r.User})
		}
		return s.notifyRequest(tx, notify.RequestPending, r, nil)
	})
	if err != nil && out != nil && out.State != store.Rejected {
		out = nil
	}
	return out, err
}

// reject stores r as rejected, audits it, and returns the refusal.
func (s *Service) reject(tx store.Tx, actor Actor, r *store.Request, reason error) error {
	r.State, r.DecidedAt, r.DecidedBy, r.Decision = store.Rejected, r.CreatedAt, "policy", reason.Error()
	if err := tx.CreateRequest(r); err != nil {
		return err
	}
	return s.refuse(tx, actor, "request.rejected", r.ID, fmt.Errorf("%w: %w", ErrRejected, reason), requestDetail(r))
}

func requestDetail(r *store.Request) map[string]any {
	d := map[string]any{
		"user": r.User, "role": r.Role, "resources": r.Resources, "duration": r.Duration.String(),
		"reason": r.Reason, "ticket": r.Ticket,
	}
	if !r.Start.IsZero() {
		d["start"] = r.Start
	}
	return d
}

func describeRequirements(reqs []policy.Requirement) []string {
	out := make([]string, 0, len(reqs))
	for _, q := range reqs {
		out = append(out, describeRequirement(q))
	}
	return out
}

func describeRequirement(q policy.Requirement) string {
	who := "group " + q.Group
	if q.Managers {
		who = "the requester's managers"
	}
	if q.Escalated {
		who += " or, escalated, group " + q.EscalateTo
	}
	return fmt.Sprintf("%d from %s", q.Count, who)
}
