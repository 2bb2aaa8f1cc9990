package policy

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file decodes the notifications section. The channels themselves
// (and the secrets they resolve) are built by package notify/route; here
// everything is checked that can be checked without I/O.

var (
	notificationFields = []string{"endpoints", "routes"}
	endpointFields     = []string{"name", "kind", "url", "url_secret", "secret", "allow_plain_http", "timeout", "smtp"}
	smtpFields         = []string{"host", "port", "from", "security", "ca_file", "username", "password", "message_id_domain", "timeout"}
	routeFields        = []string{"events", "roles", "resources", "tags", "to", "endpoints"}
)

const endpointKind = "notification endpoint"

func (p *parser) notifications(n *yaml.Node) {
	f, ok := p.fields(n, "notifications", notificationFields...)
	if !ok {
		return
	}
	for _, e := range p.list(f["endpoints"], "notifications: endpoints") {
		p.endpoint(e)
	}
	for _, r := range p.list(f["routes"], "notifications: routes") {
		p.route(r)
	}
}

func (p *parser) endpoint(n *yaml.Node) {
	f, ok := p.fields(n, entity("notifications: endpoint", n), endpointFields...)
	if !ok {
		return
	}
	name, ok := p.define(endpointKind, f, n)
	if !ok {
		return
	}
	what := "notifications: endpoint " + name
	e := NotifyEndpoint{
		Name:           name,
		Kind:           p.str(f["kind"], what+": kind"),
		URL:            p.str(f["url"], what+": url"),
		URLSecret:      p.secretRef(f["url_secret"], what+": url_secret"),
		Secret:         p.secretRef(f["secret"], what+": secret"),
		AllowPlainHTTP: p.boolean(f["allow_plain_http"], what+": allow_plain_http"),
		Timeout:        p.duration(f["timeout"], what+": timeout"),
		At:             p.at(f["name"]).String(),
	}
	given := func(field string) bool { return f[field] != nil && !isNull(f[field]) }
	// needs and refuses report the fields the kind requires and forbids.
	needs := func(fields ...string) {
		for _, field := range fields {
			if !given(field) {
				p.errorf(n, "%s: %s endpoint needs %s", what, article(e.Kind), field)
			}
		}
	}
	refuses := func(why string, fields ...string) {
		for _, field := range fields {
			if given(field) {
				p.errorf(keyNode(n, field), "%s: %s does not apply to %s endpoint (%s)", what, field, article(e.Kind), why)
			}
		}
	}
	switch e.Kind {
	case EndpointWebhook:
		needs("url", "secret")
		refuses("its address is not secret: give url, and secret to sign", "url_secret")
		refuses("it posts over HTTP", "smtp")
		if given("url") && e.URL != "" {
			if err := checkEndpointURL(e.URL, e.AllowPlainHTTP); err != nil {
				p.errorf(f["url"], "%s: url: %v", what, err)
			}
		}
	case EndpointSlack, EndpointTeams:
		needs("url_secret")
		refuses("its URL is itself a credential: keep it in a file or the environment and give url_secret", "url")
		refuses("it signs nothing", "secret")
		refuses("it posts over HTTP", "smtp")
	case EndpointEmail:
		needs("smtp")
		refuses("it sends over SMTP: give smtp", "url", "url_secret", "secret", "allow_plain_http")
		refuses("use smtp: timeout", "timeout")
		if given("smtp") {
			e.SMTP = p.smtp(f["smtp"], what+": smtp")
		}
	case "":
		if !given("kind") {
			p.errorf(n, "%s: kind is required (webhook, slack, teams or email)", what)
		}
	default:
		p.errorf(f["kind"], "%s: kind %s: want webhook, slack, teams or email", what, describe(f["kind"]))
	}
	p.pol.Notifications.Endpoints = append(p.pol.Notifications.Endpoints, e)
}

func (p *parser) smtp(n *yaml.Node, what string) NotifySMTP {
	f, ok := p.fields(n, what, smtpFields...)
	if !ok {
		return NotifySMTP{}
	}
	s := NotifySMTP{
		Host:            p.str(f["host"], what+": host"),
		Port:            p.integer(f["port"], what+": port", 0),
		From:            p.str(f["from"], what+": from"),
		Security:        cmp.Or(p.str(f["security"], what+": security"), "starttls"),
		CAFile:          p.str(f["ca_file"], what+": ca_file"),
		Username:        p.str(f["username"], what+": username"),
		Password:        p.secretRef(f["password"], what+": password"),
		MessageIDDomain: p.str(f["message_id_domain"], what+": message_id_domain"),
		Timeout:         p.duration(f["timeout"], what+": timeout"),
	}
	if s.Host == "" {
		p.errorf(n, "%s: host is required", what)
	}
	if pn := f["port"]; pn != nil && !isNull(pn) && (s.Port < 1 || s.Port > 65535) {
		p.errorf(pn, "%s: port must be 1 to 65535", what)
	}
	switch {
	case s.From == "":
		p.errorf(n, "%s: from (the sender's address) is required", what)
	case !bareAddress(s.From):
		p.errorf(f["from"], "%s: from: %s is not a bare address like lockbox@example.com", what, describe(f["from"]))
	}
	if s.Security != "starttls" && s.Security != "none" {
		p.errorf(f["security"], "%s: security %s: want starttls (the default) or none (only to a server on a loopback address)", what, describe(f["security"]))
	}
	if s.CAFile != "" && !strings.HasPrefix(s.CAFile, "/") {
		p.errorf(f["ca_file"], "%s: ca_file must be an absolute path", what)
	}
	if (s.Username == "") != (f["password"] == nil || isNull(f["password"])) {
		at := cmp.Or(f["username"], f["password"])
		p.errorf(at, "%s: username and password come together (SMTP AUTH) or not at all", what)
	}
	return s
}

// secretRef decodes a reference to a secret: file:/ABSOLUTE/PATH or
// env:NAME. Its errors never repeat the value, which may be a secret
// pasted where a reference belongs.
func (p *parser) secretRef(n *yaml.Node, what string) string {
	if n == nil || isNull(n) {
		return ""
	}
	s := p.str(n, what)
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	if err := checkSecretRef(s); err != nil {
		p.errorf(n, "%s: %v", what, err)
		return ""
	}
	return s
}

func checkSecretRef(s string) error {
	scheme, rest, ok := strings.Cut(s, ":")
	switch {
	case s == "":
		return errors.New("empty; want file:PATH or env:NAME")
	case !ok || (scheme != "file" && scheme != "env"):
		return errors.New("not a secret reference (want file:PATH or env:NAME; a secret itself never goes into policy, which is committed)")
	case scheme == "file" && !strings.HasPrefix(rest, "/"):
		return errors.New("file: needs an absolute path")
	case scheme == "env" && !envName(rest):
		return errors.New("env: needs a variable name of letters, digits and _")
	}
	return nil
}

func envName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkEndpointURL accepts an absolute https URL without user info, or
// http with allowPlainHTTP.
func checkEndpointURL(raw string, allowPlainHTTP bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme == "http" && !allowPlainHTTP:
		return errors.New("plain http is refused (use https, or allow_plain_http: true for a receiver on this machine)")
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil:
		return errors.New("want an absolute https URL without user info")
	}
	return nil
}

func (p *parser) route(n *yaml.Node) {
	what := "notifications: route"
	f, ok := p.fields(n, what, routeFields...)
	if !ok {
		return
	}
	r := NotifyRoute{
		Roles:     p.refList("role", f["roles"], what+": roles"),
		Resources: p.refList("resource", f["resources"], what+": resources"),
		Tags:      p.refList("tag", f["tags"], what+": tags"),
		Endpoints: p.refList(endpointKind, f["endpoints"], what+": endpoints"),
		To:        cmp.Or(p.str(f["to"], what+": to"), ToPeople),
		At:        p.at(n).String(),
	}
	seen := map[string]bool{}
	for _, item := range p.strs(f["events"], what+": events") {
		switch ev := item.Value; {
		case !slices.Contains(NotificationEvents, ev):
			p.errorf(item, "%s: events: unknown event %s (known: %s)", what, describe(item), strings.Join(NotificationEvents, ", "))
		case seen[ev]:
			p.errorf(item, "%s: events: %q listed twice", what, ev)
		default:
			seen[ev] = true
			r.Events = append(r.Events, ev)
		}
	}
	if ev := f["events"]; ev == nil || isNull(ev) || (ev.Kind == yaml.SequenceNode && len(ev.Content) == 0) {
		p.errorf(n, "%s: needs events: a non-empty list of the events it sends", what)
	}
	if en := f["endpoints"]; en == nil || isNull(en) || (en.Kind == yaml.SequenceNode && len(en.Content) == 0) {
		p.errorf(n, "%s: needs endpoints: a non-empty list of endpoint names", what)
	}
	if r.To != ToPeople && r.To != ToChannel {
		p.errorf(f["to"], "%s: to %s: want people (the people the event concerns; the default) or channel (the whole channel, naming nobody)", what, describe(f["to"]))
	}
	p.pol.Notifications.Routes = append(p.pol.Notifications.Routes, r)
	p.routeNodes = append(p.routeNodes, routeNode{to: f["to"], events: f["events"], at: n})
}

// routeNode keeps a route's nodes for the checks that need every
// endpoint, which may be defined in a later file.
type routeNode struct {
	to, events, at *yaml.Node
}

// finishNotifications sorts the endpoints and checks each route against
// the endpoints it names: an email endpoint needs people to send to, and
// message.dead, which concerns no role, resource or person, must be
// routable as written.
func (p *parser) finishNotifications() {
	nt := &p.pol.Notifications
	slices.SortFunc(nt.Endpoints, func(a, b NotifyEndpoint) int { return strings.Compare(a.Name, b.Name) })
	for i, r := range nt.Routes {
		rn := p.routeNodes[i]
		what := "notifications: route"
		filtered := len(r.Roles) > 0 || len(r.Resources) > 0 || len(r.Tags) > 0
		dead := slices.Contains(r.Events, "message.dead")
		if dead && filtered {
			p.errorf(rn.events, "%s: message.dead has no role or resource, so roles, resources and tags would never match it; route it on its own", what)
		}
		for _, name := range r.Endpoints {
			e := nt.Endpoint(name)
			if e == nil || e.Kind != EndpointEmail {
				continue
			}
			switch {
			case r.To == ToChannel:
				p.errorf(cmp.Or(rn.to, rn.at), "%s: to: channel cannot go to email endpoint %s, which sends to people's addresses; use to: people", what, name)
			case dead:
				p.errorf(rn.events, "%s: message.dead concerns nobody by name, so email endpoint %s would send it to nobody; route it to a webhook, slack or teams endpoint", what, name)
			}
		}
	}
}

// article puts "a" or "an" before an endpoint kind.
func article(kind string) string {
	if kind == EndpointEmail {
		return "an " + kind
	}
	return "a " + kind
}
