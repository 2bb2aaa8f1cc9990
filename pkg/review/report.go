package review

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// DefaultUnused is the period after which something not used counts as
// unused, unless the reviewer asks for another.
const DefaultUnused = 30 * 24 * time.Hour

// Grant is one role on one resource that a membership lets its person
// request, with its use.
type Grant struct {
	Role     string
	Resource string
	// Dates are when the membership and the entry both hold (zero: always).
	Dates policy.Dates
	// InEffect: the dates hold now.
	InEffect      bool
	LastRequested time.Time // zero: never
	LastUsed      time.Time // zero: never (no session)
	// Unused: no session within the report's period.
	Unused bool
}

// Entry is one membership under review.
type Entry struct {
	User     string
	Team     string
	Dates    policy.Dates // the membership's own dates
	Managers []string     // who may decide on it, with the auditors
	Grants   []Grant
	// LastRequested and LastUsed are the latest over Grants.
	LastRequested time.Time
	LastUsed      time.Time
	// Unused: none of Grants was used within the period.
	Unused bool
	// Decision is the standing decision on it, if any.
	Decision *store.ReviewDecision
}

// Membership names the entry.
func (e Entry) Membership() policy.Membership { return policy.Membership{Team: e.Team, User: e.User} }

// Input is what a report covers.
type Input struct {
	Now time.Time
	// Unused is the period (DefaultUnused if zero); OnlyUnused keeps only
	// entries with nothing used within it.
	Unused     time.Duration
	OnlyUnused bool
	// Teams limits the report to these teams; nil: every team.
	Teams []string
	// Notice is how far ahead Endings looks.
	Notice time.Duration
}

// Report is an access review at one time.
type Report struct {
	At      time.Time
	Unused  time.Duration
	Entries []Entry // by team, then user
	// Endings are the dated memberships and entries of the report's teams
	// that end within the notice time.
	Endings []policy.Ending
	// Stale are standing decisions on memberships the policy no longer
	// has (already removed, or the team is gone), in the report's teams.
	Stale []store.ReviewDecision
}

// Build makes the report of p's memberships in in.Teams, from usage and
// the standing decisions.
func Build(p *policy.Policy, usage []store.Usage, decisions []store.ReviewDecision, in Input) *Report {
	if in.Unused <= 0 {
		in.Unused = DefaultUnused
	}
	rep := &Report{At: in.Now, Unused: in.Unused}
	inScope := func(team string) bool { return in.Teams == nil || slices.Contains(in.Teams, team) }
	type key struct{ user, role, resource string }
	use := make(map[key]store.Usage, len(usage))
	for _, u := range usage {
		use[key{u.User, u.Role, u.Resource}] = u
	}
	decided := map[policy.Membership]store.ReviewDecision{}
	for _, d := range decisions {
		decided[policy.Membership{Team: d.Team, User: d.User}] = d
	}
	since := in.Now.Add(-in.Unused)
	for _, name := range slices.Sorted(maps.Keys(p.Teams)) {
		t := p.Teams[name]
		if !inScope(name) {
			continue
		}
		for _, user := range slices.Sorted(slices.Values(t.Members)) {
			member, _ := t.Membership(user)
			e := Entry{User: user, Team: name, Dates: member, Managers: t.Managers, Unused: true}
			for _, g := range grantsOf(p, t, member) {
				u := use[key{user, g.Role, g.Resource}]
				g.InEffect = g.Dates.In(in.Now)
				g.LastRequested, g.LastUsed = u.LastRequested, u.LastUsed
				g.Unused = g.LastUsed.Before(since) // also when never used
				e.Unused = e.Unused && g.Unused
				e.LastRequested, e.LastUsed = later(e.LastRequested, g.LastRequested), later(e.LastUsed, g.LastUsed)
				e.Grants = append(e.Grants, g)
			}
			if d, ok := decided[e.Membership()]; ok {
				e.Decision = &d
				delete(decided, e.Membership())
			}
			if !in.OnlyUnused || e.Unused {
				rep.Entries = append(rep.Entries, e)
			}
		}
	}
	for _, d := range decisions {
		if _, left := decided[policy.Membership{Team: d.Team, User: d.User}]; left && inScope(d.Team) {
			rep.Stale = append(rep.Stale, d)
		}
	}
	for _, e := range p.Endings(in.Now, in.Notice) {
		if inScope(e.Team) {
			rep.Endings = append(rep.Endings, e)
		}
	}
	return rep
}

// grantsOf expands t's eligibility into roles on resources, each once
// (the widest dates if two entries give the same), sorted.
func grantsOf(p *policy.Policy, t *policy.Team, member policy.Dates) []Grant {
	type key struct{ role, resource string }
	seen := map[key]int{}
	var out []Grant
	for _, el := range t.Eligible {
		for _, role := range el.Roles {
			for _, name := range slices.Sorted(maps.Keys(p.Resources)) {
				if !el.Covers(role, p.Resources[name]) {
					continue
				}
				d := member.Within(el.Dates)
				if i, dup := seen[key{role, name}]; dup {
					if !d.Dated() {
						out[i].Dates = d
					}
					continue
				}
				seen[key{role, name}] = len(out)
				out = append(out, Grant{Role: role, Resource: name, Dates: d})
			}
		}
	}
	slices.SortFunc(out, func(a, b Grant) int {
		return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Resource, b.Resource))
	})
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
