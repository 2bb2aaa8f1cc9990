package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Limits and eligibility are checked at submission, and again, against the
// policy as it is then, where a grant starts (Approve) and where each of
// its certificates is issued: a policy reload between them must not leave
// a request or grant that no longer fits usable.

// policyRequest is r as the policy evaluates it, lasting d.
func policyRequest(r *store.Request, d time.Duration) policy.Request {
	return policy.Request{User: r.User, Role: r.Role, Resources: r.Resources, Duration: d, Reason: r.Reason, Ticket: r.Ticket}
}

// policyChanged puts the policy's reason (which says what no longer holds)
// into a sentence about r: the policy changed, or a date in it passed.
func policyChanged(r *store.Request, reason error) error {
	if errors.Is(reason, policy.ErrEligibilityEnded) || errors.Is(reason, policy.ErrEligibilityNotYet) {
		return fmt.Errorf("%s no longer fits the policy: %w", r.ID, reason)
	}
	return fmt.Errorf("the policy changed since %s was made: %w", r.ID, reason)
}

// recheckGrant audits and returns the reason live grant r no longer fits
// p, or nil if it still does. The grant's own window stands for its
// duration.
func (s *Service) recheckGrant(ctx context.Context, actor Actor, refused string, p *policy.Policy, r *store.Request) error {
	if err := p.Recheck(policyRequest(r, r.NotAfter.Sub(r.NotBefore)), s.now()); err != nil {
		return s.RecordRefusal(ctx, actor, refused, r.ID, policyChanged(r, err))
	}
	return nil
}
