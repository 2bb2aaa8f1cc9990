package workflow

import (
	"slices"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Need is an approval still needed, with who can give it (see
// policy.Need), for one reader.
type Need struct {
	policy.Need
	// You: the reader is among Of and may approve the request now.
	You bool
}

// describe makes r's view for actor from its approvals, the policy and
// the time, doing no I/O: what is still needed and from whom, what the
// grant allows, its window, and whether actor may approve it now.
func describe(p *policy.Policy, actor Actor, r *store.Request, approvals []store.Approval, now time.Time) *RequestView {
	v := &RequestView{Request: r, Approvals: approvals, Window: windowOf(r, approvals, now), At: now,
		StepUpMFA: p.StepUpMFA(r.Role), GrantDuration: GrantDuration(r, approvals)}
	if r.State == store.Pending || r.State == store.Approved {
		a := p.Allows(r.Role, r.Resources)
		v.Allows = &a
	}
	if r.State != store.Pending {
		return v
	}
	reqs := requirementsOf(p, r)
	names := approverNames(approvals)
	v.Outstanding = describeRequirements(p.Outstanding(r.User, reqs, names))
	if err := p.Recheck(policyRequest(r, r.Duration), now); err != nil {
		v.NoLongerFits = policyChanged(r, err).Error()
	}
	v.CanApprove = v.NoLongerFits == "" && mayStillApprove(p, actor, r, reqs, names, now)
	for _, n := range p.Needs(r.User, reqs, names) {
		v.Needs = append(v.Needs, Need{Need: n, You: v.CanApprove && slices.Contains(n.Of, actor.User())})
	}
	return v
}

// mayStillApprove reports whether actor's approval of pending request r
// would fill an approval it still needs, before its deadline; whether the
// request still fits the policy is checked apart (Recheck).
func mayStillApprove(p *policy.Policy, actor Actor, r *store.Request, reqs []policy.Requirement, approvers []string, now time.Time) bool {
	return actor.IsUser() && now.Before(r.PendingUntil) && p.CanSatisfy(actor.User(), r.User, reqs, approvers)
}

// WhoCanApprove lists, sorted, everyone who can give one of the approvals
// v still needs: the people a pending request waits for.
func (v *RequestView) WhoCanApprove() []string {
	var out []string
	for _, n := range v.Needs {
		out = append(out, n.Of...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
