package policy

import (
	"fmt"
	"slices"
)

// Requirements returns the approvals needed for role on resources: the union
// of the role's rule and each resource's extra rule, where requirements for
// the same approvers (the same group, or managers) merge into one with the
// largest count. auto is true only when the role is auto-approved and no
// resource adds a requirement.
//
// Each requirement carries its rule's escalation. When the role's rule and
// a resource's rule ask for the same approvers, the merged requirement
// escalates only if both rules escalate to the same group, and then after
// the later of their two times: a rule that does not escalate, or
// escalates elsewhere, keeps its approvers to itself.
//
// role and resources must have passed CheckRequest. For an unknown role it
// returns nil and false: nothing is required but nothing is approved either,
// and the caller must refuse rather than read the empty list as satisfied.
// Unknown resources add nothing.
func (p *Policy) Requirements(role string, resources []string) (reqs []Requirement, auto bool) {
	r := p.Roles[role]
	if r == nil {
		return nil, false
	}
	reqs = mergeRequirements(nil, r.Approval.rule())
	for _, name := range resources {
		if res := p.Resources[name]; res != nil {
			reqs = mergeRequirements(reqs, res.Approval.rule())
		}
	}
	return reqs, r.Approval.Auto && len(reqs) == 0
}

// mergeRequirements adds more to reqs, keeping the first order seen.
func mergeRequirements(reqs, more []Requirement) []Requirement {
	for _, m := range more {
		i := slices.IndexFunc(reqs, func(r Requirement) bool {
			return r.Group == m.Group && r.Managers == m.Managers
		})
		if i < 0 {
			reqs = append(reqs, m)
			continue
		}
		q := &reqs[i]
		q.Count = max(q.Count, m.Count)
		if q.EscalateTo == m.EscalateTo {
			q.EscalateAfter = max(q.EscalateAfter, m.EscalateAfter)
		} else {
			q.EscalateTo, q.EscalateAfter = "", 0
		}
	}
	return reqs
}

// CheckApprover reports why approver may not approve requester's request
// with requirements reqs: ErrSelfApproval (checked first), ErrUnknownUser,
// or ErrNotApprover when approver can fill none of reqs. Pass the
// requirements still outstanding (see Outstanding) to also refuse an
// approval that would add nothing.
func (p *Policy) CheckApprover(requester, approver string, reqs []Requirement) error {
	switch {
	case approver == requester:
		return fmt.Errorf("%w: %s may not approve their own request", ErrSelfApproval, approver)
	case p.Users[approver] == nil:
		return fmt.Errorf("%w %q", ErrUnknownUser, approver)
	case !p.CanApproveAny(approver, requester, reqs):
		return fmt.Errorf("%w: %s is not among the approvers this request needs", ErrNotApprover, approver)
	}
	return nil
}

// CanApproveAny reports whether approver may fill at least one of reqs for
// requester's request. The requester never can.
func (p *Policy) CanApproveAny(approver, requester string, reqs []Requirement) bool {
	if approver == requester || p.Users[approver] == nil {
		return false
	}
	managers := p.ManagersOf(requester)
	return slices.ContainsFunc(reqs, func(r Requirement) bool {
		return r.Count > 0 && p.fills(approver, r, managers)
	})
}

// fills reports whether user is one of the approvers r asks for, given the
// requester's managers.
func (p *Policy) fills(user string, r Requirement, managers []string) bool {
	if r.Escalated && r.EscalateTo != "" && p.InGroup(user, r.EscalateTo) {
		return true
	}
	switch {
	case r.Managers:
		return r.Group == "" && slices.Contains(managers, user)
	case r.Group != "":
		return p.InGroup(user, r.Group)
	}
	return false
}

// Approvers returns everyone who may fill at least one of reqs for
// requester's request, sorted: the people to ask.
func (p *Policy) Approvers(requester string, reqs []Requirement) []string {
	var out []string
	for name := range p.Users {
		if p.CanApproveAny(name, requester, reqs) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
