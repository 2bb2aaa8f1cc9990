package policy

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseNotifications feeds the notifications section arbitrary text
// beside a valid policy: Parse must not crash, and what it accepts keeps
// the section's promises.
func FuzzParseNotifications(f *testing.F) {
	f.Add(notifyFile)
	f.Add("notifications:\n  endpoints:\n    - name: mail\n      kind: email\n")
	f.Add("notifications:\n  endpoints:\n    - {name: m, kind: email, smtp: {host: h, from: a@b.c, username: u}}\n")
	f.Add("notifications:\n  routes:\n    - {events: [message.dead], to: channel, endpoints: [x]}\n")
	f.Add("notifications:\n  endpoints:\n    - {name: h, kind: webhook, url: \"http://127.0.0.1:1/\", allow_plain_http: true, secret: \"env:H\"}\n" +
		"  routes:\n    - {events: [grant.ended, grant.revoked], roles: [reader], tags: [storage], resources: [db-1], endpoints: [h]}\n")
	f.Add("notifications: [1, 2]\n")
	f.Add("notifications:\n  endpoints:\n    - name: s\n      kind: slack\n      url_secret: [env:X]\n      smtp: null\n")
	k := newTestKeys(f)
	base := k.files(nil)
	f.Fuzz(func(t *testing.T, section string) {
		files := map[string][]byte{"n.yaml": []byte(section)}
		for name, data := range base {
			files[name] = data
		}
		p, err := Parse(files)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !errorLineRE.MatchString(line) {
					t.Errorf("error line %q is not FILE:LINE: message", line)
				}
			}
			return
		}
		checkNotifications(t, p)
	})
}

// checkNotifications re-checks what a parsed notifications section
// promises.
func checkNotifications(t *testing.T, p *Policy) {
	nt := p.Notifications
	if !slices.IsSortedFunc(nt.Endpoints, func(a, b NotifyEndpoint) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("endpoints not sorted: %+v", nt.Endpoints)
	}
	for i, e := range nt.Endpoints {
		if i > 0 && nt.Endpoints[i-1].Name == e.Name {
			t.Errorf("endpoint %s twice", e.Name)
		}
		if !ValidName(e.Name) || !slices.Contains([]string{EndpointWebhook, EndpointSlack, EndpointTeams, EndpointEmail}, e.Kind) {
			t.Errorf("endpoint %+v has a bad name or kind", e)
		}
		for _, ref := range []string{e.URLSecret, e.Secret, e.SMTP.Password} {
			if ref != "" && checkSecretRef(ref) != nil {
				t.Errorf("endpoint %s keeps a bad secret reference", e.Name)
			}
		}
		switch e.Kind {
		case EndpointWebhook:
			if e.URL == "" || e.Secret == "" || e.URLSecret != "" {
				t.Errorf("webhook %s: %+v", e.Name, e)
			}
		case EndpointSlack, EndpointTeams:
			if e.URLSecret == "" || e.URL != "" || e.Secret != "" {
				t.Errorf("%s %s: %+v", e.Kind, e.Name, e)
			}
		case EndpointEmail:
			if e.SMTP.Host == "" || !bareAddress(e.SMTP.From) || (e.SMTP.Username == "") != (e.SMTP.Password == "") {
				t.Errorf("email %s: %+v", e.Name, e)
			}
		}
	}
	for _, r := range nt.Routes {
		if len(r.Events) == 0 || len(r.Endpoints) == 0 || (r.To != ToPeople && r.To != ToChannel) {
			t.Errorf("route %+v", r)
		}
		for _, ev := range r.Events {
			if !slices.Contains(NotificationEvents, ev) {
				t.Errorf("route at %s has unknown event %q", r.At, ev)
			}
		}
		for _, name := range r.Endpoints {
			e := nt.Endpoint(name)
			if e == nil {
				t.Errorf("route at %s names unknown endpoint %q", r.At, name)
			} else if e.Kind == EndpointEmail && r.To == ToChannel {
				t.Errorf("route at %s sends channel-wide email", r.At)
			}
		}
		for _, role := range r.Roles {
			if p.Roles[role] == nil {
				t.Errorf("route at %s names unknown role %q", r.At, role)
			}
		}
		for _, res := range r.Resources {
			if p.Resources[res] == nil {
				t.Errorf("route at %s names unknown resource %q", r.At, res)
			}
		}
	}
}
