package render

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// strings walks decoded JSON and calls fn with every string under key.
func walkStrings(v any, key string, fn func(key, s string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walkStrings(e, k, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, key, fn)
		}
	case string:
		fn(key, x)
	}
}

func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return v
}

// acting reports a character that would act on a terminal or reorder
// text: a control character other than newline, or a bidi control.
func acting(s string) (rune, bool) {
	for _, r := range s {
		if r == '\n' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return r, true
		}
	}
	return 0, false
}

// checkSlackInert: every text object is plain_text, mrkdwn is off, and
// no text holds a raw <, > (mentions, links) or an acting character.
func checkSlackInert(t testing.TB, b []byte) {
	t.Helper()
	v := decode(t, b)
	if v.(map[string]any)["mrkdwn"] != false {
		t.Errorf("Slack message with mrkdwn on")
	}
	walkStrings(v, "", func(key, s string) {
		switch key {
		case "type":
			if s == "mrkdwn" || s == "markdown" || s == "rich_text" {
				t.Errorf("Slack block of type %s, which renders markup", s)
			}
		case "text":
			if strings.ContainsAny(s, "<>") {
				t.Errorf("Slack text with a raw < or >: %.80q", s)
			}
			if r, ok := acting(s); ok {
				t.Errorf("Slack text with %U: %.80q", r, s)
			}
		}
	})
}

// checkTeamsInert: no TextBlock or FactSet (they render Markdown), only
// TextRuns, and no acting character.
func checkTeamsInert(t testing.TB, b []byte) {
	t.Helper()
	walkStrings(decode(t, b), "", func(key, s string) {
		if key == "type" && (s == "TextBlock" || s == "FactSet" || s == "Table") {
			t.Errorf("Teams card uses %s, which renders Markdown", s)
		}
		if key == "text" || key == "fallbackText" {
			if r, ok := acting(s); ok {
				t.Errorf("Teams text with %U: %.80q", r, s)
			}
		}
	})
}

func TestUserTextRendersInertInEveryChannel(t *testing.T) {
	m := hostileMessage()
	slack, err := Slack(m)
	if err != nil {
		t.Fatal(err)
	}
	checkSlackInert(t, slack)
	if !strings.Contains(string(slack), `\u0026lt;!channel\u0026gt;`) {
		t.Errorf("Slack: <!channel> is not shown escaped")
	}

	teams, err := Teams(m)
	if err != nil {
		t.Fatal(err)
	}
	checkTeamsInert(t, teams)

	e, err := Email(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", "<!channel>", "<https://evil"} {
		if strings.Contains(e.HTML, bad) {
			t.Errorf("email HTML holds %q unescaped", bad)
		}
	}
	if !strings.Contains(e.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("email HTML does not show the script tag as text")
	}
	for name, s := range map[string]string{"subject": e.Subject, "text": e.Text, "html": e.HTML} {
		if r, ok := acting(s); ok {
			t.Errorf("email %s holds %U", name, r)
		}
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		t.Errorf("subject with a line break: %q", e.Subject)
	}
	if !strings.Contains(e.Text, `\x1b]52;c;cm0=\x07`) || !strings.Contains(e.Text, `\u202egnp.exe`) {
		t.Errorf("email text does not show the escapes visibly")
	}
}

func TestLinksComeOnlyFromTheMessageLink(t *testing.T) {
	m := hostileMessage()
	slack, _ := Slack(m)
	walkStrings(decode(t, slack), "", func(key, s string) {
		if key == "url" && s != link {
			t.Errorf("Slack link to %q", s)
		}
	})
	teams, _ := Teams(m)
	walkStrings(decode(t, teams), "", func(key, s string) {
		if key == "url" && s != link {
			t.Errorf("Teams link to %q", s)
		}
	})
	e, _ := Email(m)
	if n := strings.Count(e.HTML, "href="); n != 1 || !strings.Contains(e.HTML, `href="`+link+`"`) {
		t.Errorf("email HTML has %d links, want only the request's page", n)
	}
}

func TestMarksFlagRootInteractiveAndCustomerData(t *testing.T) {
	tests := []struct {
		name  string
		role  notify.Role
		own   bool
		marks []string
		codes []string
	}{
		{"plain role", notify.Role{Name: "viewer", Login: "viewer"}, false, nil, nil},
		{"root", notify.Role{Name: "r", Login: "root"}, false, []string{"⚠ root login"}, []string{"root_login"}},
		{"interactive", notify.Role{Name: "r", Login: "ops", Interactive: true}, false, []string{"⚠ interactive shell"}, []string{"interactive"}},
		{"customer data", notify.Role{Name: "r", Login: "ops"}, true, []string{"⚠ customer data (db1)"}, []string{"customer_data"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &notify.Request{ID: "req-1", Requester: "alice", Role: tc.role, Resources: []notify.Resource{{Name: "db1", OwnApproval: tc.own}}}
			if got := marks(r); strings.Join(got, "|") != strings.Join(tc.marks, "|") {
				t.Errorf("marks = %q, want %q", got, tc.marks)
			}
			if got := markCodes(r); strings.Join(got, "|") != strings.Join(tc.codes, "|") {
				t.Errorf("markCodes = %q, want %q", got, tc.codes)
			}
		})
	}
}

func TestPendingRequestNamesWhoCanApproveAndTheWindowIfApprovedNow(t *testing.T) {
	m := messages()[notify.RequestPending]
	e, err := Email(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Approval needed from carol",
		"1 of carol, dave: managers of storage",
		"1 of tina: tenant administrators of billing-db",
		"bob at 2026-12-01 08:55 UTC: matches the incident",
		"2026-12-01 09:00 – 11:00 UTC (if approved now)",
		"Login:          root",
		"Force command:  /usr/local/bin/lockbox-gate",
		"Max duration:   4h",
		"billing-db — Billing (customer data) (tags: prod) [own approval rule]",
	} {
		if !strings.Contains(e.Text, want) {
			t.Errorf("email text lacks %q:\n%s", want, e.Text)
		}
	}
	if len(e.To) != 1 || e.To[0] != "carol@example.com" {
		t.Errorf("To = %v", e.To)
	}
}

func TestSlackCutsLongTextToItsLimitsWithoutBreakingEntities(t *testing.T) {
	m := messages()[notify.RequestPending]
	m.Request.Justification = strings.Repeat("<&>é", 2000)
	m.To[0].Name = strings.Repeat("&", 400)
	b, err := Slack(m)
	if err != nil {
		t.Fatal(err)
	}
	checkSlackInert(t, b)
	var msg slackMessage
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if n := len(msg.Blocks[0].Text.Text); n > slackHeaderMax {
		t.Errorf("header of %d bytes", n)
	}
	for _, blk := range msg.Blocks {
		for _, f := range blk.Fields {
			if len(f.Text) > slackFieldMax {
				t.Errorf("field of %d bytes", len(f.Text))
			}
			cut := strings.TrimSuffix(f.Text, "…")
			if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.Contains(cut[i:], ";") {
				t.Errorf("field cut inside an entity: …%q", cut[max(0, len(cut)-12):])
			}
		}
	}
}
