package review

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// Reasons a review decision is refused; compare with errors.Is.
var (
	ErrSelfReview    = errors.New("nobody reviews their own access")
	ErrNotReviewer   = errors.New("not a reviewer of this team")
	ErrNoMembership  = errors.New("no such membership")
	ErrBadDecision   = errors.New("bad review decision")
	ErrNothingMarked = errors.New("nothing marked for removal")
)

// The decisions a reviewer records.
const (
	Keep   = "keep"
	Remove = "remove"
)

// MayReview reports whether reviewer may see team's review: an auditor
// sees every team, a manager their own teams.
func MayReview(p *policy.Policy, reviewer, team string) bool {
	if p.Users[reviewer] == nil {
		return false
	}
	if p.IsAuditor(reviewer) {
		return true
	}
	t := p.Teams[team]
	return t != nil && slices.Contains(t.Managers, reviewer)
}

// ReviewableTeams lists, sorted, the teams reviewer may review.
func ReviewableTeams(p *policy.Policy, reviewer string) []string {
	var out []string
	for name := range p.Teams {
		if MayReview(p, reviewer, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// CheckDecision reports why reviewer may not record decision with reason
// on user's membership of team under p, or nil: the decision is keep or
// remove, the reason a line of text, the membership exists, the reviewer
// manages the team or is an auditor, and is not user.
func CheckDecision(p *policy.Policy, reviewer string, m policy.Membership, decision, reason string) error {
	switch {
	case decision != Keep && decision != Remove:
		return fmt.Errorf("%w: %q; say keep or remove", ErrBadDecision, clip.Runes(decision, 20))
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: say why (a reason is required)", ErrBadDecision)
	case utf8.RuneCountInString(reason) > policy.MaxReasonLength:
		return fmt.Errorf("%w: the reason has %d characters, at most %d are allowed", ErrBadDecision, utf8.RuneCountInString(reason), policy.MaxReasonLength)
	}
	if err := policy.CheckText(reason); err != nil {
		return fmt.Errorf("%w: the reason is not allowed: %v", ErrBadDecision, err)
	}
	if reviewer == m.User {
		return fmt.Errorf("%w: %s may not decide on their own membership of %s", ErrSelfReview, reviewer, m.Team)
	}
	t := p.Teams[m.Team]
	if t == nil || !slices.Contains(t.Members, m.User) {
		return fmt.Errorf("%w: %s is not a member of team %s", ErrNoMembership, m.User, m.Team)
	}
	if !MayReview(p, reviewer, m.Team) {
		return fmt.Errorf("%w: %s neither manages team %s nor is an auditor", ErrNotReviewer, reviewer, m.Team)
	}
	return nil
}
