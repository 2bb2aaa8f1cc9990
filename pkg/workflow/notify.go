package workflow

import (
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// NotifyRequest fills a notification's request part from v, so that a
// notification shows what the request's page shows: who can satisfy each
// outstanding requirement, the approvals given, what the role and
// resources allow, the window (if approved now, for a pending request)
// and the decision. v.WhoCanApprove names the people a request.pending
// message is for. The caller fills the rest of the Message (kind, key,
// time: the time v was made at, recipients, link).
func NotifyRequest(v *RequestView) *notify.Request {
	r := v.Request
	out := &notify.Request{ID: r.ID, Requester: r.User, Role: notify.Role{Name: r.Role}, Duration: r.Duration,
		Justification: r.Reason, Ticket: r.Ticket}
	if a := v.Allows; a != nil {
		if role := a.Role; role != nil {
			out.Role = notify.Role{Name: role.Name, Description: role.Description, Login: role.Login, Interactive: role.Interactive,
				AllowedCommands: role.AllowedCommands, MaxDuration: role.MaxDuration, ForceCommand: role.ForceCommand}
		}
		for _, res := range a.Resources {
			out.Resources = append(out.Resources, notify.Resource{Name: res.Name, Description: res.Description,
				Tags: res.Tags, OwnApproval: res.OwnApproval()})
		}
		for _, name := range a.Missing {
			out.Resources = append(out.Resources, notify.Resource{Name: name})
		}
	} else {
		for _, name := range r.Resources {
			out.Resources = append(out.Resources, notify.Resource{Name: name})
		}
	}
	if w := v.Window; w != nil {
		out.Window = notify.Window{NotBefore: w.NotBefore, NotAfter: w.NotAfter}
	}
	for _, n := range v.Needs {
		out.Outstanding = append(out.Outstanding, notify.Requirement{Count: n.Count, Of: n.Of, Label: n.Label})
	}
	for _, a := range v.Approvals {
		out.Approvals = append(out.Approvals, notify.Approval{By: a.Approver, Reason: a.Reason, At: a.At})
	}
	out.Decision = notifyDecision(r)
	return out
}

// notifyDecision is how r was decided or ended, for the states that have
// an outcome in notifications.
func notifyDecision(r *store.Request) *notify.Decision {
	outcome, ok := map[store.State]notify.Outcome{
		store.Approved: notify.Approved, store.Denied: notify.Denied,
		store.Expired: notify.Expired, store.Revoked: notify.Revoked,
	}[r.State]
	if !ok {
		return nil
	}
	d := &notify.Decision{Outcome: outcome, By: r.DecidedBy, Reason: r.Decision, At: r.DecidedAt}
	if r.DecidedBy == "system" || r.DecidedBy == "approvers" || r.DecidedBy == "policy" {
		d.By = "" // nobody in particular decided
	}
	return d
}
