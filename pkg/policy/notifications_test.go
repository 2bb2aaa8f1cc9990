package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// notifyFile is a valid notifications section over the base policy;
// tests look for errors at exact lines of variants of it.
const notifyFile = `notifications:
  endpoints:
    - name: ops-slack
      kind: slack
      url_secret: env:LOCKBOX_OPS_SLACK_URL
    - name: siem
      kind: webhook
      url: https://siem.example.com/lockbox
      secret: file:/etc/lockbox/siem.secret
      timeout: 5s
    - name: mail
      kind: email
      smtp:
        host: smtp.example.com
        port: 2525
        from: lockbox@example.com
        username: lockbox
        password: file:/etc/lockbox/smtp.password
        ca_file: /etc/lockbox/smtp-ca.pem
        message_id_domain: lockbox.example.com
        timeout: 20s
    - name: teams
      kind: teams
      url_secret: file:/etc/lockbox/teams.url
  routes:
    - events: [request.pending, request.decided]
      endpoints: [mail]
    - events: [request.pending]
      roles: [reader]
      tags: [storage]
      to: channel
      endpoints: [ops-slack, teams]
    - events: [session.started, session.ended]
      resources: [db-1]
      endpoints: [mail, siem]
    - events: [message.dead]
      endpoints: [siem]
`

func TestParseNotificationsSection(t *testing.T) {
	k := newTestKeys(t)
	p, err := Parse(k.files(map[string]string{"n.yaml": notifyFile}))
	if err != nil {
		t.Fatal(err)
	}
	want := Notifications{
		Endpoints: []NotifyEndpoint{
			{Name: "mail", Kind: "email", At: "n.yaml:11", SMTP: NotifySMTP{
				Host: "smtp.example.com", Port: 2525, From: "lockbox@example.com", Security: "starttls",
				CAFile: "/etc/lockbox/smtp-ca.pem", Username: "lockbox", Password: "file:/etc/lockbox/smtp.password",
				MessageIDDomain: "lockbox.example.com", Timeout: 20 * time.Second,
			}},
			{Name: "ops-slack", Kind: "slack", URLSecret: "env:LOCKBOX_OPS_SLACK_URL", At: "n.yaml:3"},
			{Name: "siem", Kind: "webhook", URL: "https://siem.example.com/lockbox", Secret: "file:/etc/lockbox/siem.secret",
				Timeout: 5 * time.Second, At: "n.yaml:6"},
			{Name: "teams", Kind: "teams", URLSecret: "file:/etc/lockbox/teams.url", At: "n.yaml:22"},
		},
		Routes: []NotifyRoute{
			{Events: []string{"request.pending", "request.decided"}, To: ToPeople, Endpoints: []string{"mail"}, At: "n.yaml:26"},
			{Events: []string{"request.pending"}, Roles: []string{"reader"}, Tags: []string{"storage"}, To: ToChannel,
				Endpoints: []string{"ops-slack", "teams"}, At: "n.yaml:28"},
			{Events: []string{"session.started", "session.ended"}, Resources: []string{"db-1"}, To: ToPeople,
				Endpoints: []string{"mail", "siem"}, At: "n.yaml:33"},
			{Events: []string{"message.dead"}, To: ToPeople, Endpoints: []string{"siem"}, At: "n.yaml:36"},
		},
	}
	if diff := cmp.Diff(want, p.Notifications); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	if e := p.Notifications.Endpoint("siem"); e == nil || e.Kind != EndpointWebhook {
		t.Errorf("Endpoint(siem) = %+v", e)
	}
	if e := p.Notifications.Endpoint("nope"); e != nil {
		t.Errorf("Endpoint(nope) = %+v, want nil", e)
	}
}

func TestParseWithoutNotificationsSendsNothing(t *testing.T) {
	p, err := Parse(newTestKeys(t).files(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Notifications{}, p.Notifications); diff != "" {
		t.Errorf("no section (-want +got):\n%s", diff)
	}
}

func TestParseNotificationsAcrossFiles(t *testing.T) {
	k := newTestKeys(t)
	p, err := Parse(k.files(map[string]string{
		"n1.yaml": "notifications:\n  routes:\n    - {events: [grant.started], endpoints: [hook]}\n",
		"n2.yaml": "notifications:\n  endpoints:\n    - {name: hook, kind: webhook, url: \"https://h.example.com/\", secret: \"env:HOOK\"}\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notifications.Endpoints) != 1 || len(p.Notifications.Routes) != 1 || p.Notifications.Routes[0].At != "n1.yaml:3" {
		t.Errorf("merged section = %+v", p.Notifications)
	}
}

// replaceLine returns notifyFile with its line n (1-based) replaced by text
// (which may hold several lines or none).
func replaceLine(n int, text string) string {
	lines := strings.Split(notifyFile, "\n")
	out := append([]string{}, lines[:n-1]...)
	if text != "" {
		out = append(out, text)
	}
	return strings.Join(append(out, lines[n:]...), "\n")
}

func TestParseNotificationsErrors(t *testing.T) {
	k := newTestKeys(t)
	tests := []struct {
		name, file, want string
	}{
		{"unknown field in the section", "notifications:\n  channels: []\n",
			`n.yaml:2: notifications: unknown field "channels" (known fields: endpoints, routes)`},
		{"unknown field in an endpoint", replaceLine(5, "      url_secret: env:X\n      channel: ops"),
			`n.yaml:6: notifications: endpoint ops-slack: unknown field "channel"`},
		{"unknown field in smtp", replaceLine(15, "        tls: true"),
			`n.yaml:15: notifications: endpoint mail: smtp: unknown field "tls"`},
		{"unknown field in a route", replaceLine(27, "      endpoints: [mail]\n      when: always"),
			`n.yaml:28: notifications: route: unknown field "when"`},
		{"unknown kind", replaceLine(4, "      kind: pager"),
			`n.yaml:4: notifications: endpoint ops-slack: kind "pager": want webhook, slack, teams or email`},
		{"no kind", replaceLine(4, ""),
			`n.yaml:3: notifications: endpoint ops-slack: kind is required`},
		{"endpoint defined twice", replaceLine(22, "    - name: mail"),
			`n.yaml:22: notification endpoint "mail" is defined twice: here and at n.yaml:11`},
		{"bad endpoint name", replaceLine(22, "    - name: Teams!"),
			`n.yaml:22: notification endpoint name "Teams!" is not valid`},
		{"unknown endpoint in a route", replaceLine(27, "      endpoints: [mail, pager]"),
			`n.yaml:27: notifications: route: endpoints: unknown notification endpoint "pager"`},
		{"unknown event", replaceLine(26, "    - events: [request.pending, request.approved]"),
			`n.yaml:26: notifications: route: events: unknown event "request.approved" (known: request.pending,`},
		{"event twice", replaceLine(26, "    - events: [request.pending, request.pending]"),
			`n.yaml:26: notifications: route: events: "request.pending" listed twice`},
		{"no events", replaceLine(26, "    - events: []"),
			`n.yaml:26: notifications: route: needs events: a non-empty list`},
		{"no endpoints", replaceLine(27, ""),
			`n.yaml:26: notifications: route: needs endpoints: a non-empty list of endpoint names`},
		{"unknown role", replaceLine(29, "      roles: [writer]"),
			`n.yaml:29: notifications: route: roles: unknown role "writer"`},
		{"unknown tag", replaceLine(30, "      tags: [billing]"),
			`n.yaml:30: notifications: route: tags: unknown tag "billing" (no resource has this tag)`},
		{"unknown resource", replaceLine(34, "      resources: [db-9]"),
			`n.yaml:34: notifications: route: resources: unknown resource "db-9"`},
		{"bad to", replaceLine(31, "      to: everyone"),
			`n.yaml:31: notifications: route: to "everyone": want people`},
		{"channel-wide email", replaceLine(27, "      endpoints: [mail]\n      to: channel"),
			`n.yaml:28: notifications: route: to: channel cannot go to email endpoint mail`},
		{"dead letters by email", replaceLine(37, "      endpoints: [mail]"),
			`n.yaml:36: notifications: route: message.dead concerns nobody by name, so email endpoint mail would send it to nobody`},
		{"dead letters filtered", replaceLine(37, "      endpoints: [siem]\n      roles: [reader]"),
			`n.yaml:36: notifications: route: message.dead has no role or resource`},
		{"a literal secret is refused and not repeated", replaceLine(9, "      secret: s3cr3t-hunter2-value"),
			`n.yaml:9: notifications: endpoint siem: secret: not a secret reference (want file:PATH or env:NAME`},
		{"a pasted Slack URL is refused", replaceLine(5, "      url_secret: https://hooks.slack.com/services/T0/B0/XYZ"),
			`n.yaml:5: notifications: endpoint ops-slack: url_secret: not a secret reference`},
		{"a relative secret file", replaceLine(9, "      secret: file:siem.secret"),
			`n.yaml:9: notifications: endpoint siem: secret: file: needs an absolute path`},
		{"a bad env name", replaceLine(5, "      url_secret: env:A-B"),
			`n.yaml:5: notifications: endpoint ops-slack: url_secret: env: needs a variable name`},
		{"slack with a url", replaceLine(5, "      url: https://hooks.slack.com/services/T0/B0/XYZ"),
			`n.yaml:5: notifications: endpoint ops-slack: url does not apply to a slack endpoint (its URL is itself a credential`},
		{"slack without url_secret", replaceLine(5, ""),
			`n.yaml:3: notifications: endpoint ops-slack: a slack endpoint needs url_secret`},
		{"webhook without secret", replaceLine(9, ""),
			`n.yaml:6: notifications: endpoint siem: a webhook endpoint needs secret`},
		{"webhook over plain http", replaceLine(8, "      url: http://siem.example.com/lockbox"),
			`n.yaml:8: notifications: endpoint siem: url: plain http is refused`},
		{"webhook with user info", replaceLine(8, "      url: https://u:p@siem.example.com/"),
			`n.yaml:8: notifications: endpoint siem: url: want an absolute https URL without user info`},
		{"webhook with smtp", replaceLine(10, "      smtp: {host: x}"),
			`n.yaml:10: notifications: endpoint siem: smtp does not apply to a webhook endpoint`},
		{"email with a url", replaceLine(12, "      kind: email\n      url: https://x.example.com/"),
			`n.yaml:13: notifications: endpoint mail: url does not apply to an email endpoint`},
		{"email with an HTTP timeout", replaceLine(12, "      kind: email\n      timeout: 5s"),
			`n.yaml:13: notifications: endpoint mail: timeout does not apply to an email endpoint (use smtp: timeout)`},
		{"email without smtp", "notifications:\n  endpoints:\n    - name: mail\n      kind: email\n",
			`n.yaml:3: notifications: endpoint mail: an email endpoint needs smtp`},
		{"smtp without host", replaceLine(14, ""),
			`n.yaml:14: notifications: endpoint mail: smtp: host is required`},
		{"smtp port out of range", replaceLine(15, "        port: 70000"),
			`n.yaml:15: notifications: endpoint mail: smtp: port must be 1 to 65535`},
		{"smtp sender with a display name", replaceLine(16, `        from: "Lockbox <lockbox@example.com>"`),
			`n.yaml:16: notifications: endpoint mail: smtp: from: "Lockbox <lockbox@example.com>" is not a bare address`},
		{"smtp security typo", replaceLine(16, "        from: lockbox@example.com\n        security: tls"),
			`n.yaml:17: notifications: endpoint mail: smtp: security "tls": want starttls (the default) or none`},
		{"smtp username without password", replaceLine(18, ""),
			`n.yaml:17: notifications: endpoint mail: smtp: username and password come together`},
		{"smtp password without username", replaceLine(17, ""),
			`n.yaml:17: notifications: endpoint mail: smtp: username and password come together`},
		{"smtp password literal", replaceLine(18, "        password: hunter2"),
			`n.yaml:18: notifications: endpoint mail: smtp: password: not a secret reference`},
		{"smtp relative ca_file", replaceLine(19, "        ca_file: ca.pem"),
			`n.yaml:19: notifications: endpoint mail: smtp: ca_file must be an absolute path`},
		{"bad timeout", replaceLine(10, "      timeout: soon"),
			`n.yaml:10: notifications: endpoint siem: timeout: bad duration "soon"`},
		{"routes not a list", "notifications:\n  routes: {events: [grant.ended]}\n",
			`n.yaml:2: notifications: routes: expected a list, found a mapping`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(k.files(map[string]string{"n.yaml": tt.file}))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error does not contain %q:\n%s", tt.want, msg)
			}
			for _, secret := range []string{"s3cr3t-hunter2-value", "hunter2", "XYZ"} {
				if strings.Contains(tt.file, secret) && strings.Contains(msg, secret) {
					t.Errorf("error repeats the secret %q:\n%s", secret, msg)
				}
			}
			for _, line := range strings.Split(msg, "\n") {
				if !errorLineRE.MatchString(line) {
					t.Errorf("error line %q is not FILE:LINE: message", line)
				}
			}
		})
	}
}
