package policy

import (
	"errors"
	"fmt"
	"time"
)

// Recheck reports why r, a request accepted under an earlier policy or at
// an earlier time, no longer fits p at now: its user, role or resources
// are gone, the user is no longer eligible for the role on every resource
// (left the team, or the membership's or entry's dates no longer hold at
// now: the error then wraps ErrEligibilityEnded or ErrEligibilityNotYet
// and names the date), its duration is over the
// role's max_duration, or the role now needs a ticket it lacks. The
// workflow calls it with the current policy where a grant starts (the
// approval that completes it) and where each certificate is issued, so
// that limits and eligibility are not checked only at the door.
//
// Each failure wraps the same named error as CheckRequest, in a sentence
// that says what no longer holds. Reason and ticket text are not checked
// again: they were checked at submission and the policy does not change
// them.
func (p *Policy) Recheck(r Request, now time.Time) error {
	if p.Users[r.User] == nil {
		return fmt.Errorf("%w: %s is no longer a user in the policy", ErrUnknownUser, r.User)
	}
	role := p.Roles[r.Role]
	if role == nil {
		return fmt.Errorf("%w: role %s no longer exists", ErrUnknownRole, r.Role)
	}
	for _, name := range r.Resources {
		if p.Resources[name] == nil {
			return fmt.Errorf("%w: resource %s no longer exists", ErrUnknownResource, name)
		}
	}
	for _, name := range r.Resources {
		err := p.checkEligible(r.User, r.Role, name, now)
		if errors.Is(err, ErrEligibilityEnded) || errors.Is(err, ErrEligibilityNotYet) {
			return err
		}
		if err != nil {
			return fmt.Errorf("%w: %s is no longer in a team eligible for %s on %s", ErrOutOfScope, r.User, r.Role, name)
		}
	}
	if r.Duration > role.MaxDuration {
		return fmt.Errorf("%w: %s is over role %s's max_duration of %s (now)", ErrOverMaxDuration, r.Duration, role.Name, role.MaxDuration)
	}
	if role.TicketRequired && r.Ticket == "" {
		return fmt.Errorf("%w: role %s now needs a ticket reference, and this request has none", ErrTicketRequired, role.Name)
	}
	return nil
}

// CheckActive reports ErrTooManyActive when user, who has active grants
// already, may not have one more under the settings.
func (p *Policy) CheckActive(user string, active int) error {
	if limit := p.Settings.MaxActiveGrantsPerUser; active >= limit {
		return fmt.Errorf("%w: %s has %d active grants, the limit is %d", ErrTooManyActive, user, active, limit)
	}
	return nil
}
