package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
)

// Ending is a dated membership or eligibility entry whose end is near:
// what the person and their managers are to be told before it comes.
type Ending struct {
	Team string
	// Member is the member whose membership ends, or "" when an
	// eligibility entry of the team ends (for every member).
	Member string
	// Roles and Resources are what stops being requestable: the ending
	// entry's, or, for a membership, those of every entry of the team.
	// Resources are written as in the policy (names and tag:X).
	Roles, Resources []string
	Dates            Dates
	// People lose the eligibility: the member, or the team's members at
	// the time asked. Managers are the team's.
	People   []string
	Managers []string
}

// Key names the ending for a notice given once: its team, whose or which
// entry, and its end, hashed. A later until: makes a new key, and so a
// new notice.
func (e Ending) Key() string {
	parts := []string{"eligibility-ending", e.Team, e.Member, e.Dates.Until.UTC().Format(time.RFC3339Nano)}
	if e.Member == "" {
		parts = append(parts, strings.Join(e.Roles, ","), strings.Join(e.Resources, ","))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// Endings lists the memberships and eligibility entries that are in
// effect at now and end within the next lead, soonest first (then by
// team and member). It does no I/O.
func (p *Policy) Endings(now time.Time, lead time.Duration) []Ending {
	var out []Ending
	soon := func(d Dates) bool {
		return d.In(now) && !d.Until.IsZero() && !d.Until.After(now.Add(lead))
	}
	for _, name := range slices.Sorted(maps.Keys(p.Teams)) {
		t := p.Teams[name]
		for _, m := range t.Members {
			if d := t.MemberDates[m]; soon(d) {
				e := Ending{Team: name, Member: m, Dates: d, People: []string{m}, Managers: t.Managers}
				for _, el := range t.Eligible {
					e.Roles = append(e.Roles, el.Roles...)
					e.Resources = append(e.Resources, el.Written()...)
				}
				slices.Sort(e.Roles)
				slices.Sort(e.Resources)
				e.Roles, e.Resources = slices.Compact(e.Roles), slices.Compact(e.Resources)
				out = append(out, e)
			}
		}
		for _, el := range t.Eligible {
			if soon(el.Dates) {
				e := Ending{Team: name, Roles: el.Roles, Resources: el.Written(), Dates: el.Dates, Managers: t.Managers}
				for _, m := range t.Members {
					if t.MemberAt(m, now) {
						e.People = append(e.People, m)
					}
				}
				out = append(out, e)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Ending) int { return a.Dates.Until.Compare(b.Dates.Until) })
	return out
}

// Written returns e's resources as the policy writes them: names, then
// tag:X.
func (e Eligibility) Written() []string {
	out := slices.Clone(e.Resources)
	for _, t := range e.Tags {
		out = append(out, "tag:"+t)
	}
	return out
}
