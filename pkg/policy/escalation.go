package policy

import "time"

// rule returns the requirements of a, each carrying a's escalation.
func (a Approval) rule() []Requirement {
	out := make([]Requirement, len(a.Require))
	for i, r := range a.Require {
		r.EscalateAfter, r.EscalateTo = a.EscalateAfter, a.EscalateTo
		out[i] = r
	}
	return out
}

// EscalatesAt returns when r escalates for a request made at created, and
// false when r never escalates.
func (r Requirement) EscalatesAt(created time.Time) (time.Time, bool) {
	if r.EscalateTo == "" || r.EscalateAfter <= 0 {
		return time.Time{}, false
	}
	return created.Add(r.EscalateAfter), true
}

// Escalate returns reqs, for a request made at created whose escalations
// were last recorded at through (zero: never), with Escalated set on each
// requirement whose escalation time is at or before through. Escalated
// requirements accept members of their EscalateTo group as approvers too;
// one person still counts once, and never the requester (see Outstanding).
//
// The caller passes the time it recorded an escalation, not the current
// time: a requirement escalates when the escalation is recorded (and its
// group told), never silently by the clock alone.
func Escalate(reqs []Requirement, created, through time.Time) []Requirement {
	out := make([]Requirement, len(reqs))
	for i, r := range reqs {
		at, ok := r.EscalatesAt(created)
		r.Escalated = ok && !through.IsZero() && !at.After(through)
		out[i] = r
	}
	return out
}

// NextEscalation returns the earliest escalation time of reqs, for a
// request made at created, that is after after; false if there is none.
func NextEscalation(reqs []Requirement, created, after time.Time) (time.Time, bool) {
	var next time.Time
	for _, r := range reqs {
		at, ok := r.EscalatesAt(created)
		if ok && at.After(after) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next, !next.IsZero()
}

// PendingTimeout returns how long a request for resources may wait for a
// decision: the shortest of global (the CA's pending timeout) and each
// resource's pending_timeout. Unknown resources add nothing.
func (p *Policy) PendingTimeout(resources []string, global time.Duration) time.Duration {
	d := global
	for _, name := range resources {
		if res := p.Resources[name]; res != nil && res.PendingTimeout > 0 && res.PendingTimeout < d {
			d = res.PendingTimeout
		}
	}
	return d
}

// StepUpMFA reports whether role asks for a fresh TOTP code to fetch its
// certificates and to approve its requests. An unknown role does not.
func (p *Policy) StepUpMFA(role string) bool {
	r := p.Roles[role]
	return r != nil && r.StepUpMFA
}
