package render

import (
	"fmt"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// requestFacts lists what an approver needs to see, in the order they
// read it: who, what the role lets them do, where, when, why, and who
// still has to say yes.
func requestFacts(m *notify.Message) []fact {
	r := m.Request
	one := func(label, value string) fact { return fact{label, []string{value}} }
	var f []fact
	if m.Kind == notify.RequestPending && len(m.To) > 0 {
		f = append(f, one("For", recipientNames(m.To)))
	}
	f = append(f, one("Requester", clean(r.Requester)))
	role := clean(r.Role.Name)
	if r.Role.Description != "" {
		role += " — " + clean(r.Role.Description)
	}
	f = append(f, one("Role", role), one("Login", clean(r.Role.Login)))
	if r.Role.Interactive {
		f = append(f, one("Interactive", "yes: a shell on a terminal"))
	} else {
		f = append(f, one("Interactive", "no: commands only"))
	}
	if len(r.Role.AllowedCommands) == 0 {
		f = append(f, one("Commands", "any"))
	} else {
		f = append(f, fact{"Commands", cleanAll(r.Role.AllowedCommands)})
	}
	if r.Role.ForceCommand != "" {
		f = append(f, one("Force command", clean(r.Role.ForceCommand)))
	}
	if r.Role.MaxDuration > 0 {
		f = append(f, one("Max duration", duration(r.Role.MaxDuration)))
	}
	f = append(f, fact{"Resources", resourceLines(r.Resources)})
	if r.Duration > 0 {
		f = append(f, one("Asked for", duration(r.Duration)))
	}
	if !r.Window.NotBefore.IsZero() && !r.Window.NotAfter.IsZero() {
		w := window(r.Window.NotBefore, r.Window.NotAfter)
		if m.Kind == notify.RequestPending {
			w += " (if approved now)"
		}
		f = append(f, one("Window", w))
	}
	f = append(f, one("Justification", clean(r.Justification)))
	if r.Ticket != "" {
		f = append(f, one("Ticket", clean(r.Ticket)))
	}
	if len(r.Outstanding) > 0 {
		f = append(f, fact{"Still needed", requirementLines(r.Outstanding)})
	}
	if len(r.Approvals) > 0 {
		f = append(f, fact{"Approved by", approvalLines(r.Approvals)})
	}
	if d := r.Decision; d != nil {
		f = append(f, one("Decision", decisionLine(d)))
	}
	return append(f, one("Request", clean(r.ID)))
}

func resourceLines(rs []notify.Resource) []string {
	lines := make([]string, len(rs))
	for i, r := range rs {
		var b strings.Builder
		b.WriteString(clean(r.Name))
		if r.Description != "" {
			b.WriteString(" — " + clean(r.Description))
		}
		if len(r.Tags) > 0 {
			b.WriteString(" (tags: " + names(r.Tags) + ")")
		}
		if r.OwnApproval {
			b.WriteString(" [own approval rule]")
		}
		lines[i] = b.String()
	}
	return lines
}

// requirementLines write "1 of carol, dave: managers of storage".
func requirementLines(reqs []notify.Requirement) []string {
	lines := make([]string, len(reqs))
	for i, q := range reqs {
		label := clean(q.Label)
		if len(q.Of) == 0 {
			lines[i] = fmt.Sprintf("%d more: %s (nobody in policy can give it)", q.Count, label)
			continue
		}
		lines[i] = fmt.Sprintf("%d of %s: %s", q.Count, names(q.Of), label)
	}
	return lines
}

func approvalLines(as []notify.Approval) []string {
	lines := make([]string, len(as))
	for i, a := range as {
		lines[i] = clean(a.By)
		if !a.At.IsZero() {
			lines[i] += " at " + stamp(a.At)
		}
		if a.Reason != "" {
			lines[i] += ": " + clean(a.Reason)
		}
	}
	return lines
}

func decisionLine(d *notify.Decision) string {
	s := string(d.Outcome)
	if d.By != "" {
		s += " by " + clean(d.By)
	}
	if !d.At.IsZero() {
		s += " at " + stamp(d.At)
	}
	if d.Reason != "" {
		s += ": " + clean(d.Reason)
	}
	return s
}

func sessionFacts(s *notify.Session) []fact {
	one := func(label, value string) fact { return fact{label, []string{value}} }
	f := []fact{
		one("User", clean(s.User)),
		one("Resource", clean(s.Resource)),
		one("Role", clean(s.Role)),
	}
	if s.Command != "" {
		f = append(f, one("Command", clean(s.Command)))
	}
	if !s.StartedAt.IsZero() {
		f = append(f, one("Started", stamp(s.StartedAt)))
	}
	if !s.EndedAt.IsZero() {
		f = append(f, one("Ended", stamp(s.EndedAt)))
	}
	if s.EndReason != "" {
		f = append(f, one("Why it ended", clean(s.EndReason)))
	}
	f = append(f, one("Session", clean(s.ID)))
	if s.RequestID != "" {
		f = append(f, one("Request", clean(s.RequestID)))
	}
	return f
}
