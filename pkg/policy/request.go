package policy

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on the free text of a request.
const (
	MaxReasonLength = 1000 // characters
	MaxTicketLength = 100  // characters
)

// Request is what an engineer asks for.
type Request struct {
	User      string
	Role      string
	Resources []string
	Duration  time.Duration
	Reason    string
	Ticket    string
}

// Counts are the requester's current numbers of active grants and pending
// requests, not counting the request being checked.
type Counts struct {
	Active  int
	Pending int
}

// CheckRequest reports why r may not be made at now, or nil if it may. It
// checks, in this order, and returns the first failure: the user, the
// role, the resources (at least one, all known, none twice), eligibility
// at now (dated memberships and entries count inside their dates only),
// duration,
// reason, ticket, and then c against the settings. Each failure wraps one of
// the Err values with a sentence for the requester.
func (p *Policy) CheckRequest(r Request, c Counts, now time.Time) error {
	if p.Users[r.User] == nil {
		return fmt.Errorf("%w %q", ErrUnknownUser, r.User)
	}
	role := p.Roles[r.Role]
	if role == nil {
		return fmt.Errorf("%w %q", ErrUnknownRole, r.Role)
	}
	if err := p.checkResources(r, now); err != nil {
		return err
	}
	switch {
	case r.Duration <= 0:
		return fmt.Errorf("%w: %s; ask for a positive duration such as 1h", ErrBadDuration, r.Duration)
	case r.Duration > role.MaxDuration:
		return fmt.Errorf("%w: %s asked, role %s allows at most %s", ErrOverMaxDuration, r.Duration, role.Name, role.MaxDuration)
	}
	if err := checkReason(r.Reason); err != nil {
		return err
	}
	if err := checkTicket(r.Ticket, role); err != nil {
		return err
	}
	if limit := p.Settings.MaxPendingRequestsPerUser; c.Pending >= limit {
		return fmt.Errorf("%w: %s has %d pending, the limit is %d", ErrTooManyPending, r.User, c.Pending, limit)
	}
	return p.CheckActive(r.User, c.Active)
}

func (p *Policy) checkResources(r Request, now time.Time) error {
	if len(r.Resources) == 0 {
		return fmt.Errorf("%w: name at least one resource", ErrNoResources)
	}
	for _, name := range r.Resources {
		if p.Resources[name] == nil {
			return fmt.Errorf("%w %q", ErrUnknownResource, name)
		}
	}
	seen := make(map[string]bool, len(r.Resources))
	for _, name := range r.Resources {
		if seen[name] {
			return fmt.Errorf("%w: %s", ErrDuplicateResource, name)
		}
		seen[name] = true
	}
	for _, name := range r.Resources {
		if err := p.checkEligible(r.User, r.Role, name, now); err != nil {
			return err
		}
	}
	return nil
}

// checkReason wants a one-line justification: it is shown to approvers in
// terminals and web pages, where control characters could disguise it.
func checkReason(reason string) error {
	n := utf8.RuneCountInString(reason)
	switch {
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: say why you need this access", ErrReasonRequired)
	case n > MaxReasonLength:
		return fmt.Errorf("%w: the reason has %d characters, at most %d are allowed", ErrReasonRequired, n, MaxReasonLength)
	}
	if err := CheckText(reason); err != nil {
		return fmt.Errorf("%w: the reason is not allowed: %v", ErrReasonRequired, err)
	}
	return nil
}

// checkTicket checks the ticket reference, which is optional unless the role
// requires one. A ticket is a single token such as OPS-1234.
func checkTicket(ticket string, role *Role) error {
	if ticket == "" {
		if role.TicketRequired {
			return fmt.Errorf("%w: role %s needs a ticket reference", ErrTicketRequired, role.Name)
		}
		return nil
	}
	if n := utf8.RuneCountInString(ticket); n > MaxTicketLength {
		return fmt.Errorf("%w: %d characters, at most %d are allowed", ErrBadTicket, n, MaxTicketLength)
	}
	if CheckText(ticket) != nil || strings.ContainsFunc(ticket, unicode.IsSpace) {
		return fmt.Errorf("%w: %q; a ticket is one word, without spaces or control characters", ErrBadTicket, ticket)
	}
	return nil
}
