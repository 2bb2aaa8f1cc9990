package policy

import (
	"slices"
	"strings"
)

// Need is a requirement still outstanding, with who can satisfy it: what
// an approver, a requester chasing approvals, and a notification show.
type Need struct {
	// Requirement is the rule's requirement, its Count the approvals still
	// missing.
	Requirement
	// Label names the approvers the rule asks for: "managers of storage",
	// "group security".
	Label string
	// Of are the people whose approval now would fill one of the missing
	// approvals, sorted: never the requester, nor anyone who approved
	// already (each person counts once). Empty when nobody in the policy
	// can give it.
	Of []string
}

// Needs returns the requirements of reqs not yet met by approvers, as
// Outstanding does (the same requirements, counts and order), each with
// who can satisfy it.
//
// Someone can satisfy a need when their approval would fill one of its
// missing approvals: directly, because they are among the approvers it
// asks for, or because it lets an earlier approver who belongs to this
// need's group too move here from a requirement the newcomer fills
// instead (each person counts once, see Outstanding). So a person named
// under a need is someone whose approval brings the request one approval
// closer, and whoever is not named would add nothing.
func (p *Policy) Needs(requester string, reqs []Requirement, approvers []string) []Need {
	m, approved := p.assign(requester, reqs, approvers)
	var out []Need
	index := map[int]int{} // requirement → its need in out
	for i, r := range reqs {
		if left := r.Count - len(m.slots[i]); left > 0 {
			r.Count = left
			index[i] = len(out)
			out = append(out, Need{Requirement: r, Label: p.RequirementLabel(requester, r)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	for _, person := range p.sortedUsers() {
		if person == requester || approved[person] {
			continue
		}
		for i, ok := range m.reachable(person) {
			if j, open := index[i]; ok && open {
				out[j].Of = append(out[j].Of, person)
			}
		}
	}
	return out
}

// CanSatisfy reports whether person's approval would fill one of the
// approvals of reqs that approvers have not given: the person Needs names
// under some need. The requester, someone who approved already and people
// not in the policy never can.
func (p *Policy) CanSatisfy(person, requester string, reqs []Requirement, approvers []string) bool {
	if person == requester || p.Users[person] == nil || slices.Contains(approvers, person) {
		return false
	}
	m, _ := p.assign(requester, reqs, approvers)
	for i, ok := range m.reachable(person) {
		if ok && len(m.slots[i]) < reqs[i].Count {
			return true
		}
	}
	return false
}

// RequirementLabel names who r asks for, for requester's request:
// "managers of storage" (the teams requester is a member of), "group
// security".
func (p *Policy) RequirementLabel(requester string, r Requirement) string {
	if !r.Managers {
		return "group " + r.Group
	}
	var teams []string
	for name, t := range p.Teams {
		if slices.Contains(t.Members, requester) {
			teams = append(teams, name)
		}
	}
	if len(teams) == 0 {
		return "the requester's managers"
	}
	slices.Sort(teams)
	return "managers of " + strings.Join(teams, ", ")
}

func (p *Policy) sortedUsers() []string {
	out := make([]string, 0, len(p.Users))
	for name := range p.Users {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
