package policy

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Eligibility is checked at a time: a dated membership or eligibility
// entry (see Dates) counts only inside its window. Outside it the refusal
// names the date, so the person knows why ("alice's eligibility for
// reader on db-1 ended on 2026-11-30").

// MemberAt reports whether user is a member of t at now: listed, and
// inside the membership's dates if it has any.
func (t *Team) MemberAt(user string, now time.Time) bool {
	d, ok := t.Membership(user)
	return ok && d.In(now)
}

// Membership returns the dates of user's membership of t (zero when
// undated) and whether user is listed as a member at all.
func (t *Team) Membership(user string) (Dates, bool) {
	if !slices.Contains(t.Members, user) {
		return Dates{}, false
	}
	return t.MemberDates[user], true
}

// Covers reports whether e lists role for res, by name or by a tag.
func (e Eligibility) Covers(role string, res *Resource) bool {
	if res == nil || !slices.Contains(e.Roles, role) {
		return false
	}
	return slices.Contains(e.Resources, res.Name) || slices.ContainsFunc(e.Tags, func(tag string) bool {
		return slices.Contains(res.Tags, tag)
	})
}

// datedRefusal is an eligibility refused by its dates: errors.Is matches
// both its kind and ErrOutOfScope.
type datedRefusal struct {
	kind error
	msg  string
}

func (e *datedRefusal) Error() string { return e.msg }

func (e *datedRefusal) Is(target error) bool { return target == e.kind || target == ErrOutOfScope }

// checkEligible reports why user may not request role on resource at now,
// or nil if some team that lists user as a member has an entry for role on
// resource and both the membership and the entry are in effect at now.
// When only dates stand in the way, the error wraps ErrEligibilityNotYet
// (the soonest start to come) or ErrEligibilityEnded (the latest end), as
// well as ErrOutOfScope; otherwise it is ErrOutOfScope alone. Being a
// team's manager is not enough: managers approve, members request.
func (p *Policy) checkEligible(user, role, resource string, now time.Time) error {
	res := p.Resources[resource]
	var later, ended []Dates
	for _, name := range slices.Sorted(maps.Keys(p.Teams)) {
		t := p.Teams[name]
		member, ok := t.Membership(user)
		if !ok || res == nil {
			continue
		}
		for _, e := range t.Eligible {
			if !e.Covers(role, res) {
				continue
			}
			w := member.Within(e.Dates)
			switch {
			case w.In(now):
				return nil
			case !w.Started(now) && !w.Ended(now):
				later = append(later, w)
			default:
				ended = append(ended, w)
			}
		}
	}
	if len(later) > 0 {
		w := slices.MinFunc(later, func(a, b Dates) int { return a.From.Compare(b.From) })
		return &datedRefusal{ErrEligibilityNotYet, fmt.Sprintf("%v: %s's eligibility for %s on %s starts %s",
			ErrOutOfScope, user, role, resource, w.StartsText())}
	}
	if len(ended) > 0 {
		w := slices.MaxFunc(ended, func(a, b Dates) int { return cmp.Compare(a.Until.UnixNano(), b.Until.UnixNano()) })
		return &datedRefusal{ErrEligibilityEnded, fmt.Sprintf("%v: %s's eligibility for %s on %s ended %s",
			ErrOutOfScope, user, role, resource, w.EndsText())}
	}
	return fmt.Errorf("%w: %s may not request %s on %s", ErrOutOfScope, user, role, resource)
}
