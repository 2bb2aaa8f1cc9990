package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// maxDecisionReason bounds decision reasons, in characters, as
// justifications are bounded.
const maxDecisionReason = policy.MaxReasonLength

// checkDecisionReason keeps decision reasons to one readable paragraph,
// under the rule every free-text field follows (policy.CheckText).
func checkDecisionReason(reason string, required bool) error {
	if err := policy.CheckText(reason); err != nil {
		return fmt.Errorf("%w: the reason is not allowed: %v", ErrBadInput, err)
	}
	switch n := utf8.RuneCountInString(reason); {
	case required && strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: a reason is required", ErrBadInput)
	case n > maxDecisionReason:
		return fmt.Errorf("%w: the reason has %d characters, at most %d are allowed", ErrBadInput, n, maxDecisionReason)
	}
	return nil
}

// lockPending locks request id for a decision and checks that it is still
// pending and not past its deadline; a request found past its deadline is
// expired on the spot.
func (s *Service) lockPending(tx store.Tx, actor Actor, action, id string) (*store.Request, error) {
	r, err := tx.LockRequest(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.refuse(tx, actor, action, id, fmt.Errorf("%w: %s", ErrNotFound, id), nil)
	}
	if err != nil {
		return nil, err
	}
	if r.State != store.Pending {
		return nil, s.refuse(tx, actor, action, id, fmt.Errorf("%w: %s is %s", ErrNotPending, id, r.State), nil)
	}
	if !s.now().Before(r.PendingUntil) {
		if err := s.expirePending(tx, r); err != nil {
			return nil, err
		}
		return nil, s.refuse(tx, actor, action, id, fmt.Errorf("%w: %s", ErrPendingExpired, id), nil)
	}
	return r, nil
}

// ApprovalInput is what an approver gives besides their name.
type ApprovalInput struct {
	Reason string
	// Duration, when set, shortens the grant: it lasts the shortest
	// duration any approver gave, and never longer than asked.
	Duration time.Duration
	// StepUp is the approver's fresh code, for roles with step_up_mfa.
	StepUp StepUp
}

// Approve is ApproveWith with a reason only.
func (s *Service) Approve(ctx context.Context, actor Actor, id, reason string) (*store.Request, error) {
	return s.ApproveWith(ctx, actor, id, ApprovalInput{Reason: reason})
}

// ApproveWith records actor's approval of request id. When the approvals
// meet every requirement, the grant starts now (or at the request's
// scheduled start, if later) and lasts the requested duration, or the
// shortest duration an approver gave (GrantWindow). The requester can
// never approve; each person counts once; the check runs inside the
// transaction that records the approval, with the request row locked, so
// racing approvers make exactly one transition.
//
// Every approval evaluates the request against the policy as it is now
// (policy.Recheck: the user, role, resources, eligibility, max_duration),
// and the approval that would start the grant also counts the user's
// active grants against max_active_grants_per_user, in the same
// transaction. A role with step_up_mfa needs the approver's fresh code,
// checked and spent in that transaction too. A refused approval is
// audited and records nothing.
func (s *Service) ApproveWith(ctx context.Context, actor Actor, id string, in ApprovalInput) (*store.Request, error) {
	const refused = "approval.refused"
	if err := checkDecisionReason(in.Reason, false); err != nil {
		return nil, s.RecordRefusal(ctx, actor, refused, id, err)
	}
	if in.Duration < 0 {
		return nil, s.RecordRefusal(ctx, actor, refused, id, fmt.Errorf("%w: %s; give a positive duration such as 30m", ErrGrantDuration, in.Duration))
	}
	var out *store.Request
	err := s.update(ctx, func(tx store.Tx) error {
		out = nil
		r, err := s.lockPending(tx, actor, refused, id)
		if err != nil {
			return err
		}
		if !actor.IsUser() {
			return s.refuse(tx, actor, refused, id, fmt.Errorf("%w: only people approve", ErrForbidden), nil)
		}
		if err := checkActive(tx, r.User); err != nil {
			return s.refuse(tx, actor, refused, id, err, nil)
		}
		p, err := s.policyIn(tx)
		if err != nil {
			return err
		}
		if err := p.Recheck(policyRequest(r, r.Duration), s.now()); err != nil {
			return s.refuse(tx, actor, refused, id, policyChanged(r, err), nil)
		}
		reqs := requirementsOf(p, r)
		if err := p.CheckApprover(r.User, actor.User(), reqs); err != nil {
			return s.refuse(tx, actor, refused, id, err, nil)
		}
		if in.Duration > r.Duration {
			return s.refuse(tx, actor, refused, id, fmt.Errorf("%w: %s is longer than the %s asked; an approver may only shorten the grant", ErrGrantDuration, in.Duration, r.Duration), nil)
		}
		approvals, err := tx.Approvals(id)
		if err != nil {
			return err
		}
		names := approverNames(approvals)
		if slices.Contains(names, actor.User()) {
			return s.refuse(tx, actor, refused, id, fmt.Errorf("%w: %s", ErrAlreadyApproved, id), nil)
		}
		now := s.now()
		mine := store.Approval{RequestID: id, Approver: actor.User(), Reason: in.Reason, At: now, Duration: in.Duration}
		outstanding := p.Outstanding(r.User, reqs, append(names, actor.User()))
		if len(outstanding) == 0 {
			_, active, err := tx.CountOpen(r.User, now)
			if err != nil {
				return err
			}
			if err := p.CheckActive(r.User, active); err != nil {
				return s.refuse(tx, actor, refused, id, fmt.Errorf("%w; approve again once one of them ends", err), nil)
			}
			if _, end := GrantWindow(r, append(approvals, mine), now); !end.After(now) {
				return s.refuse(tx, actor, refused, id, fmt.Errorf("%w: with %s from its start the window would have ended at %s",
					ErrGrantDuration, GrantDuration(r, append(approvals, mine)), end.UTC().Format(time.RFC3339)), nil)
			}
		}
		if p.StepUpMFA(r.Role) {
			if err := s.stepUp(tx, actor, refused, r, in.StepUp); err != nil {
				return err
			}
		}
		err = tx.AddApproval(mine)
		if errors.Is(err, store.ErrDuplicate) {
			return s.refuse(tx, actor, refused, id, fmt.Errorf("%w: %s", ErrAlreadyApproved, id), nil)
		}
		if err != nil {
			return err
		}
		detail := map[string]any{"reason": in.Reason, "outstanding": describeRequirements(outstanding)}
		if in.Duration > 0 {
			detail["duration"] = in.Duration.String()
		}
		if p.StepUpMFA(r.Role) {
			detail["step_up"] = true
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: "approval.recorded", Subject: id, Detail: detail}); err != nil {
			return err
		}
		out = r
		if len(outstanding) > 0 {
			return s.keepView(ctx, tx, actor, r)
		}
		if err := s.startGrant(tx, r, append(approvals, mine)); err != nil {
			return err
		}
		return s.keepView(ctx, tx, actor, r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// keepView sets the call's result, for a kept answer, to the request as
// actor now sees it (what is still outstanding), as the API answers an
// approval.
func (s *Service) keepView(ctx context.Context, tx store.Tx, actor Actor, r *store.Request) error {
	if !wantsResult(ctx) {
		return nil
	}
	v, err := s.view(tx, actor, r, true)
	if err != nil {
		return err
	}
	setResult(ctx, v)
	return nil
}

// startGrant moves a fully approved request to approved, for the window
// GrantWindow gives (the duration asked, which the policy's Recheck found
// within the role's maximum, or shorter if an approver said so).
func (s *Service) startGrant(tx store.Tx, r *store.Request, approvals []store.Approval) error {
	now := s.now()
	r.State, r.DecidedAt, r.DecidedBy, r.Decision = store.Approved, now, "approvers", "all required approvals given"
	r.NotBefore, r.NotAfter = GrantWindow(r, approvals, now)
	if err := tx.UpdateRequest(r, store.Pending); err != nil {
		return err
	}
	detail := map[string]any{"not_before": r.NotBefore, "not_after": r.NotAfter,
		"duration": GrantDuration(r, approvals).String(), "requested": r.Duration.String()}
	if !r.Start.IsZero() {
		detail["start"] = r.Start
	}
	if err := record(tx, audit.Event{Time: now, Actor: "system", Action: "request.approved", Subject: r.ID, Detail: detail}); err != nil {
		return err
	}
	return s.notifyRequest(tx, notify.RequestDecided, r, []string{r.User})
}

func approverNames(as []store.Approval) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Approver
	}
	return out
}

// Deny ends a pending request. Anyone who may approve it may deny it; the
// requester may withdraw it. A reason is required.
func (s *Service) Deny(ctx context.Context, actor Actor, id, reason string) (*store.Request, error) {
	if err := checkDecisionReason(reason, true); err != nil {
		return nil, s.RecordRefusal(ctx, actor, "denial.refused", id, err)
	}
	var out *store.Request
	err := s.update(ctx, func(tx store.Tx) error {
		out = nil
		r, err := s.lockPending(tx, actor, "denial.refused", id)
		if err != nil {
			return err
		}
		p := s.policy()
		reqs := requirementsOf(p, r)
		if !actor.IsUser() || (actor.User() != r.User && !p.CanApproveAny(actor.User(), r.User, reqs)) {
			return s.refuse(tx, actor, "denial.refused", id, fmt.Errorf("%w: %s may not deny %s", ErrForbidden, actor, id), nil)
		}
		now := s.now()
		r.State, r.DecidedAt, r.DecidedBy, r.Decision = store.Denied, now, actor.User(), reason
		if err := tx.UpdateRequest(r, store.Pending); err != nil {
			return err
		}
		out = r
		setResult(ctx, r)
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: "request.denied", Subject: id,
			Detail: map[string]any{"reason": reason}}); err != nil {
			return err
		}
		return s.notifyRequest(tx, notify.RequestDecided, r, []string{r.User})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Revoke ends an approved grant now, live or scheduled to open later. The
// requester, anyone who may approve such a request, and auditors may
// revoke. Certificates of a revoked grant
// appear in the KRL, and the bastion ends its sessions.
func (s *Service) Revoke(ctx context.Context, actor Actor, id, reason string) (*store.Request, error) {
	if err := checkDecisionReason(reason, false); err != nil {
		return nil, s.RecordRefusal(ctx, actor, "revocation.refused", id, err)
	}
	var out *store.Request
	err := s.update(ctx, func(tx store.Tx) error {
		out = nil
		r, err := tx.LockRequest(id)
		if errors.Is(err, store.ErrNotFound) {
			return s.refuse(tx, actor, "revocation.refused", id, fmt.Errorf("%w: %s", ErrNotFound, id), nil)
		}
		if err != nil {
			return err
		}
		if !s.mayManage(actor, r) {
			return s.refuse(tx, actor, "revocation.refused", id, fmt.Errorf("%w: %s may not revoke %s", ErrForbidden, actor, id), nil)
		}
		now := s.now()
		if !r.Granted(now) {
			return s.refuse(tx, actor, "revocation.refused", id, fmt.Errorf("%w: %s is %s", ErrNotLive, id, grantState(r, now)), nil)
		}
		if reason == "" {
			reason = "revoked by " + actor.User()
		}
		r.State, r.DecidedAt, r.DecidedBy, r.Decision = store.Revoked, now, actor.User(), reason
		if err := tx.UpdateRequest(r, store.Approved); err != nil {
			return err
		}
		out = r
		setResult(ctx, r)
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: "grant.revoked", Subject: id,
			Detail: map[string]any{"reason": reason}}); err != nil {
			return err
		}
		return s.notifyRequest(tx, notify.GrantRevoked, r, []string{r.User})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mayManage: the requester, a possible approver, or an auditor.
func (s *Service) mayManage(actor Actor, r *store.Request) bool {
	if !actor.IsUser() {
		return false
	}
	u := actor.User()
	if u == r.User {
		return true
	}
	p := s.policy()
	return p.CanApproveAny(u, r.User, requirementsOf(p, r)) || p.IsAuditor(u)
}

func (s *Service) expirePending(tx store.Tx, r *store.Request) error {
	now := s.now()
	r.State, r.DecidedAt, r.DecidedBy = store.Expired, now, "system"
	r.Decision = fmt.Sprintf("nobody decided within %v", r.PendingUntil.Sub(r.CreatedAt))
	if !r.Start.IsZero() && r.PendingUntil.Equal(r.Start.Add(r.Duration)) {
		r.Decision = "nobody decided before the scheduled window would have ended"
	}
	if err := tx.UpdateRequest(r, store.Pending); err != nil {
		return err
	}
	if err := record(tx, audit.Event{Time: now, Actor: "system", Action: "request.expired", Subject: r.ID,
		Detail: map[string]any{"reason": r.Decision}}); err != nil {
		return err
	}
	return s.notifyRequest(tx, notify.RequestExpired, r, []string{r.User})
}

// Sweep expires pending requests past their deadline, records the
// escalations that are due (request.escalated), ends grants past their
// window, and records the dated eligibilities that end within the notice
// time (eligibility.ending, once each), auditing each, and prunes used API nonces and ended web
// sessions. The CA runs it every few seconds; it returns how many requests
// it moved.
//
// It also reads the directory's group membership, so that changes made
// through other replicas, and their OIDC sign-ins, reach this one's
// merged policy within an interval.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n := 0
	var members map[string][]string
	err := s.update(ctx, func(tx store.Tx) error {
		n, members = 0, nil
		now := s.now()
		if s.cfg.Policy.Get().Bound() {
			var err error
			if members, err = readMemberships(tx); err != nil {
				return err
			}
		}
		due, err := tx.Requests(store.RequestFilter{PendingBefore: now})
		if err != nil {
			return err
		}
		for _, r := range due {
			if err := s.expirePending(tx, r); err != nil {
				return err
			}
			n++
		}
		escalating, err := tx.Requests(store.RequestFilter{EscalateBefore: now})
		if err != nil {
			return err
		}
		for _, r := range escalating {
			if err := s.escalate(tx, r, now); err != nil {
				return err
			}
		}
		ended, err := tx.Requests(store.RequestFilter{EndedBefore: now})
		if err != nil {
			return err
		}
		for _, r := range ended {
			r.State, r.DecidedAt, r.DecidedBy, r.Decision = store.Expired, now, "system", "grant window ended"
			if err := tx.UpdateRequest(r, store.Approved); err != nil {
				return err
			}
			if err := record(tx, audit.Event{Time: now, Actor: "system", Action: "grant.expired", Subject: r.ID,
				Detail: map[string]any{"not_after": r.NotAfter}}); err != nil {
				return err
			}
			if err := s.notifyRequest(tx, notify.GrantEnded, r, []string{r.User}); err != nil {
				return err
			}
			n++
		}
		if err := s.noteGrants(tx, now); err != nil {
			return err
		}
		if err := s.noteEndings(tx, now); err != nil {
			return err
		}
		if err := tx.PruneWebSessions(now); err != nil {
			return err
		}
		if err := tx.PruneAnswers(now); err != nil {
			return err
		}
		return tx.PruneNonces(now)
	})
	if err == nil && members != nil {
		s.keepMemberships(members)
	}
	return n, err
}
