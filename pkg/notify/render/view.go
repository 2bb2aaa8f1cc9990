package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// view is what every human-facing renderer shows, built once from a
// Message so Slack, Teams and email say the same thing. Every string in
// it is clean (inert); renderers add only their own markup escaping.
type view struct {
	Kind     notify.Kind
	Headline string // what happened, in a few words
	Summary  string // one sentence: who, what, where
	Subject  string // the email subject
	Marks    []string
	Facts    []fact
	Link     string
	Key      string
}

// fact is one labelled value; Lines hold one value per line.
type fact struct {
	Label string
	Lines []string
}

func (f fact) Value() string { return strings.Join(f.Lines, "\n") }

// subjectPrefix starts every email subject.
const subjectPrefix = "[Lockbox] "

// build checks m and makes its view.
func build(m *notify.Message) (view, error) {
	if err := m.Validate(); err != nil {
		return view{}, err
	}
	v := view{Kind: m.Kind, Link: m.Link, Key: m.Key}
	switch {
	case m.Kind == notify.MessageDead:
		v.dead(m)
	case m.Kind == notify.SessionStarted || m.Kind == notify.SessionEnded:
		v.session(m)
	case m.Kind == notify.EligibilityEnding:
		v.eligibility(m)
	case m.Kind == notify.UserDeprovisioned:
		v.deprovisioned(m)
	case m.Kind == notify.BreakGlass:
		v.breakGlass(m)
	default:
		v.request(m)
	}
	v.Subject = subjectPrefix + v.Subject
	return v, nil
}

// request fills the view of a request or grant event.
func (v *view) request(m *notify.Message) {
	r := m.Request
	who, role, on := clean(r.Requester), clean(r.Role.Name), resourceNames(r.Resources)
	what := role + " on " + on
	d := r.Decision
	by := ""
	if d != nil {
		by = clean(d.By)
	}
	switch m.Kind {
	case notify.RequestPending:
		v.Headline = "Approval needed"
		if len(m.To) > 0 {
			v.Headline += " from " + recipientNames(m.To)
		}
		v.Summary = fmt.Sprintf("%s asks for %s for %s.", who, what, duration(r.Duration))
		v.Subject = fmt.Sprintf("Approval needed: %s asks for %s (%s)", who, what, duration(r.Duration))
	case notify.RequestDecided:
		verb := string(d.Outcome)
		v.Headline = "Request " + verb
		if by == "" {
			v.Summary = fmt.Sprintf("%s's request for %s was %s.", who, what, verb)
		} else {
			v.Summary = fmt.Sprintf("%s %s %s's request for %s.", by, verb, who, what)
		}
		v.Subject = fmt.Sprintf("%s: %s for %s", strings.ToUpper(verb[:1])+verb[1:], what, who)
	case notify.RequestExpired:
		v.Headline = "Request expired undecided"
		v.Summary = fmt.Sprintf("Nobody decided %s's request for %s in time.", who, what)
		v.Subject = fmt.Sprintf("Expired undecided: %s for %s", what, who)
	case notify.GrantStarted:
		v.Headline = "Access started"
		v.Summary = fmt.Sprintf("%s has %s until %s.", who, what, stamp(r.Window.NotAfter))
		v.Subject = fmt.Sprintf("Access started: %s has %s", who, what)
	case notify.GrantEndingSoon:
		left := r.Window.NotAfter.Sub(m.Time).Round(time.Minute)
		v.Headline = "Access ends in " + duration(max(left, time.Minute))
		v.Summary = fmt.Sprintf("%s's %s ends at %s.", who, what, stamp(r.Window.NotAfter))
		v.Subject = fmt.Sprintf("Access ends in %s: %s's %s", duration(max(left, time.Minute)), who, what)
	case notify.GrantEnded:
		v.Headline = "Access ended"
		v.Summary = fmt.Sprintf("%s's %s ended at %s.", who, what, stamp(r.Window.NotAfter))
		v.Subject = fmt.Sprintf("Access ended: %s's %s", who, what)
	case notify.RequestEscalated:
		v.Headline = "Escalated: approval needed"
		if len(m.To) > 0 {
			v.Headline += " from " + recipientNames(m.To)
		}
		v.Summary = fmt.Sprintf("Nobody decided %s's request for %s in time; you may approve it in their place.", who, what)
		v.Subject = fmt.Sprintf("Escalated: %s asks for %s (%s)", who, what, duration(r.Duration))
	case notify.GrantRevoked:
		v.Headline = "Access revoked"
		v.Summary = fmt.Sprintf("%s revoked %s's %s.", orSomeone(by), who, what)
		v.Subject = fmt.Sprintf("Access revoked by %s: %s's %s", orSomeone(by), who, what)
	}
	v.Marks = marks(r)
	v.Facts = requestFacts(m)
}

func orSomeone(name string) string {
	if name == "" {
		return "Lockbox"
	}
	return name
}

// session fills the view of a session event.
func (v *view) session(m *notify.Message) {
	s := m.Session
	user, res, role := clean(s.User), clean(s.Resource), clean(s.Role)
	if m.Kind == notify.SessionStarted {
		v.Headline = "Session started on " + res
		v.Summary = fmt.Sprintf("%s opened a session on %s as %s.", user, res, role)
		v.Subject = fmt.Sprintf("Session started on %s by %s (%s)", res, user, role)
	} else {
		v.Headline = "Session ended on " + res
		v.Summary = fmt.Sprintf("%s's session on %s ended.", user, res)
		if s.EndReason != "" {
			v.Summary = fmt.Sprintf("%s's session on %s ended: %s.", user, res, clean(s.EndReason))
		}
		v.Subject = fmt.Sprintf("Session ended on %s (%s)", res, user)
	}
	if m.Request != nil {
		v.Marks = marks(m.Request)
	}
	v.Facts = sessionFacts(s)
}

// dead fills the view of a message given up.
func (v *view) dead(m *notify.Message) {
	d := m.Dead
	v.Headline = "A notification was not delivered"
	v.Summary = fmt.Sprintf("The %s message to %s was given up after %d attempts.", clean(string(d.Kind)), clean(d.Channel), d.Attempts)
	v.Subject = fmt.Sprintf("Undelivered notification: %s to %s", clean(string(d.Kind)), clean(d.Channel))
	v.Facts = []fact{
		{"Message", []string{clean(d.Key)}},
		{"Event", []string{clean(string(d.Kind))}},
		{"Endpoint", []string{clean(d.Channel)}},
		{"Attempts", []string{fmt.Sprint(d.Attempts)}},
		{"Last error", []string{clean(d.LastError)}},
	}
}

// eligibility fills the view of a dated eligibility that ends.
func (v *view) eligibility(m *notify.Message) {
	e := m.Eligibility
	team, until := clean(e.Team), stamp(e.Until)
	if e.Member != "" {
		v.Headline = "Team membership ends"
		v.Summary = fmt.Sprintf("%s's membership of %s ends at %s.", clean(e.Member), team, until)
		v.Subject = fmt.Sprintf("Membership ends: %s in %s at %s", clean(e.Member), team, until)
	} else {
		v.Headline = "Eligibility ends"
		v.Summary = fmt.Sprintf("An eligibility of team %s ends at %s.", team, until)
		v.Subject = fmt.Sprintf("Eligibility of %s ends at %s", team, until)
	}
	v.Facts = []fact{{"Team", []string{team}}, {"Ends", []string{until}}}
	for _, f := range []fact{{"People", cleanAll(e.People)}, {"Managers", cleanAll(e.Managers)},
		{"Roles", cleanAll(e.Roles)}, {"Resources", cleanAll(e.Resources)}} {
		if len(f.Lines) > 0 {
			v.Facts = append(v.Facts, f)
		}
	}
}

// deprovisioned fills the view of a person whose access was taken away.
func (v *view) deprovisioned(m *notify.Message) {
	d := m.Deprovisioned
	user := clean(d.User)
	v.Headline = "Access removed: " + user
	v.Summary = fmt.Sprintf("%s was deprovisioned (%s): %s.", user, clean(d.By), clean(d.Reason))
	v.Subject = fmt.Sprintf("Deprovisioned: %s", user)
	v.Facts = []fact{{"Person", []string{user}}, {"By", []string{clean(d.By)}}, {"Reason", []string{clean(d.Reason)}}}
	for _, f := range []fact{{"Requests withdrawn", cleanAll(d.Withdrawn)}, {"Grants revoked", cleanAll(d.Revoked)},
		{"Sessions ended", cleanAll(d.Sessions)}} {
		if len(f.Lines) > 0 {
			v.Facts = append(v.Facts, f)
		}
	}
}

// breakGlass fills the view of an emergency certificate's issuance or of
// a session made with one.
func (v *view) breakGlass(m *notify.Message) {
	b := m.BreakGlass
	user, res, role := clean(b.User), clean(b.Resource), clean(b.Role)
	v.Marks = []string{"⚠ break-glass: no approval, no second factor"}
	if b.Event == notify.BreakGlassIssued {
		v.Headline = "Break-glass certificate issued for " + res
		v.Summary = fmt.Sprintf("%s signed an emergency certificate for %s, %s on %s, while the CA was down: %s.",
			clean(b.Operator), user, role, res, clean(b.Reason))
		v.Subject = fmt.Sprintf("BREAK-GLASS certificate: %s on %s", user, res)
	} else {
		v.Headline = "Break-glass session on " + res
		v.Summary = fmt.Sprintf("%s used an emergency certificate for a session on %s as %s: %s.", user, res, role, clean(b.Reason))
		v.Subject = fmt.Sprintf("BREAK-GLASS session: %s on %s", user, res)
	}
	v.Facts = []fact{{"Person", []string{user}}, {"Role", []string{role}}, {"Resource", []string{res}},
		{"Reason", []string{clean(b.Reason)}}, {"Bastion", []string{clean(b.Bastion)}}, {"Serial", []string{clean(b.Serial)}}}
	if b.Operator != "" {
		v.Facts = append(v.Facts, fact{"Signed by", []string{clean(b.Operator)}})
	}
	if !b.NotAfter.IsZero() {
		v.Facts = append(v.Facts, fact{"Certificate ends", []string{stamp(b.NotAfter)}})
	}
	if b.Event != notify.BreakGlassSession {
		return
	}
	command := "(shell)"
	if b.Command != "" {
		command = clean(b.Command)
	}
	v.Facts = append(v.Facts, fact{"Session", []string{clean(b.SessionID)}}, fact{"Client", []string{clean(b.Client)}},
		fact{"Command", []string{command}}, fact{"Started", []string{stamp(b.StartedAt)}}, fact{"Ended", []string{stamp(b.EndedAt)}},
		fact{"End", []string{clean(b.EndReason)}})
	if b.ExitStatus != nil {
		v.Facts = append(v.Facts, fact{"Exit status", []string{fmt.Sprint(*b.ExitStatus)}})
	}
}

// marks flag what deserves a second look before approving.
func marks(r *notify.Request) []string {
	var out []string
	if r.Role.Login == "root" {
		out = append(out, "⚠ root login")
	}
	if r.Role.Interactive {
		out = append(out, "⚠ interactive shell")
	}
	var own []string
	for _, res := range r.Resources {
		if res.OwnApproval {
			own = append(own, res.Name)
		}
	}
	if len(own) > 0 {
		out = append(out, "⚠ customer data ("+names(own)+")")
	}
	return out
}

func resourceNames(rs []notify.Resource) string {
	n := make([]string, len(rs))
	for i, r := range rs {
		n[i] = r.Name
	}
	return names(n)
}

func recipientNames(rs []notify.Recipient) string {
	n := make([]string, len(rs))
	for i, r := range rs {
		n[i] = r.Name
	}
	return names(n)
}
