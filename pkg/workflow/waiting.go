package workflow

import (
	"context"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// WaitingFor counts the pending requests that wait for actor: those their
// approval now would count for (CanApprove in their view). The web form
// shows it on every page, so it reads approvals only of requests actor's
// groups or teams could fill, and computes the rest from the policy.
func (s *Service) WaitingFor(ctx context.Context, actor Actor) (int, error) {
	if !actor.IsUser() {
		return 0, nil
	}
	me := actor.User()
	p := s.policy()
	n := 0
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		n = 0
		rs, err := tx.Requests(store.RequestFilter{States: []store.State{store.Pending}})
		if err != nil {
			return err
		}
		now := s.now()
		for _, r := range rs {
			reqs, _ := p.Requirements(r.Role, r.Resources)
			if r.User == me || !now.Before(r.PendingUntil) || !p.CanApproveAny(me, r.User, reqs) {
				continue
			}
			if p.Recheck(policyRequest(r, r.Duration), now) != nil {
				continue
			}
			approvals, err := tx.Approvals(r.ID)
			if err != nil {
				return err
			}
			if mayStillApprove(p, actor, r, reqs, approverNames(approvals), now) {
				n++
			}
		}
		return nil
	})
	return n, err
}
