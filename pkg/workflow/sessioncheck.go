package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// SessionCheck asks whether user could open a session on a grant now.
type SessionCheck struct {
	RequestID  string
	Resource   string
	User       string
	ClientAddr string
}

// CheckSession answers a bastion, before it asks for the user's TOTP code,
// whether a session could start: the grant live, not revoked and the
// user's, the resource in it, the role and resource still in the policy,
// and the user's lease free. It takes and consumes nothing, so that a
// login refused for any of these reasons spends no code; what depends on
// the command is checked by StartSession. A refusal is audited
// (session.refused, stage "before the code").
func (s *Service) CheckSession(ctx context.Context, actor Actor, in SessionCheck) error {
	const refused = "session.refused"
	p := s.policy()
	if p.Bastions[actor.Bastion()] == nil {
		return s.RecordRefusal(ctx, actor, refused, in.RequestID, fmt.Errorf("%w: %s", ErrNotBastion, actor))
	}
	var why error
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		why = nil
		now := s.now()
		r, err := tx.Request(in.RequestID)
		if errors.Is(err, store.ErrNotFound) {
			why = fmt.Errorf("%w: %s", ErrNotFound, in.RequestID)
			return nil
		}
		if err != nil {
			return err
		}
		if _, _, why = grantRefusal(p, r, in.User, in.Resource, now); why != nil {
			return nil
		}
		l, err := tx.Lease(in.User)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case l.Expires.After(now):
			why = fmt.Errorf("%w: %s already has session %s open (one session per user)", ErrSessionActive, in.User, l.SessionID)
		}
		return nil
	})
	if err != nil || why == nil {
		return err
	}
	detail := map[string]any{"user": in.User, "resource": in.Resource, "client": in.ClientAddr, "stage": "before the code"}
	return s.update(ctx, func(tx store.Tx) error { return s.refuse(tx, actor, refused, in.RequestID, why, detail) })
}

// grantRefusal says why user may not open a session on resource under
// grant r at now, or returns the role and resource to use. It is pure;
// StartSession and CheckSession share it.
func grantRefusal(p *policy.Policy, r *store.Request, user, resource string, now time.Time) (*policy.Role, *policy.Resource, error) {
	switch {
	case r.User != user:
		return nil, nil, fmt.Errorf("%w: %s is not %s's grant", ErrForbidden, r.ID, user)
	case r.State == store.Revoked:
		why := ""
		if r.Decision != "" {
			why = ": " + r.Decision
		}
		return nil, nil, fmt.Errorf("%w: grant %s was revoked by %s%s", ErrNotLive, r.ID, r.DecidedBy, why)
	case r.Scheduled(now):
		return nil, nil, notLive(r, now)
	case !r.Live(now):
		if !r.NotAfter.IsZero() && !now.Before(r.NotAfter) {
			return nil, nil, fmt.Errorf("%w: grant %s ended at %s", ErrNotLive, r.ID, r.NotAfter.UTC().Format(time.RFC3339))
		}
		return nil, nil, fmt.Errorf("%w: %s is %s", ErrNotLive, r.ID, grantState(r, now))
	case !slices.Contains(r.Resources, resource):
		return nil, nil, fmt.Errorf("%w: %s is not in %s", ErrNotInGrant, resource, r.ID)
	}
	// The grant must still fit the current policy, as its certificates
	// must: a reload that took the user out of the role's eligibility
	// opens no new session (and takes no lease).
	if err := p.Recheck(policyRequest(r, r.NotAfter.Sub(r.NotBefore)), now); err != nil {
		return nil, nil, policyChanged(r, err)
	}
	return p.Roles[r.Role], p.Resources[resource], nil
}
