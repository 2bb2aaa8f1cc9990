package render

import (
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// withText puts s everywhere a person can write in a pending request.
func withText(s string) *notify.Message {
	m := hostileMessage()
	r := m.Request
	r.Justification, r.Ticket, r.Requester = s, s, s
	r.Approvals[0].Reason, r.Resources[0].Description, r.Outstanding[0].Label = s, s, s
	r.Role.AllowedCommands = []string{s}
	m.To[0].Name = "carol" + s
	return m
}

// FuzzRenderersKeepArbitraryTextInert renders arbitrary text in every
// channel: nothing crashes, Slack and Teams stay free of markup and
// acting characters, the HTML email gains no tag from the text, and the
// webhook JSON carries the text (as valid UTF-8) for machines.
func FuzzRenderersKeepArbitraryTextInert(f *testing.F) {
	for _, s := range []string{hostile, "", "plain", "&lt;", "<", "\xff\xfe", "a\u2028b", strings.Repeat("<&>", 1500), "]]><!--", "</td></tr></table><a href=x>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The same message with harmless text of the same emptiness has the
		// same rows, so the same markup.
		neutral := "x"
		if s == "" {
			neutral = ""
		}
		base, err := Email(withText(neutral))
		if err != nil {
			t.Fatal(err)
		}
		m := withText(s)
		slack, err := Slack(m)
		if err != nil {
			t.Fatal(err)
		}
		checkSlackInert(t, slack)
		teams, err := Teams(m)
		if err != nil {
			t.Fatal(err)
		}
		checkTeamsInert(t, teams)
		e, err := Email(m)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Count(e.HTML, "<"), strings.Count(base.HTML, "<"); got != want {
			t.Fatalf("the text added markup to the HTML email: %d '<' instead of %d", got, want)
		}
		for name, part := range map[string]string{"subject": e.Subject, "text": e.Text, "html": e.HTML} {
			if r, ok := acting(part); ok {
				t.Fatalf("email %s holds %U", name, r)
			}
		}
		if strings.ContainsAny(e.Subject, "\r\n") {
			t.Fatalf("subject with a line break: %q", e.Subject)
		}
		hook, err := Webhook(m)
		if err != nil {
			t.Fatal(err)
		}
		decode(t, hook)
	})
}
