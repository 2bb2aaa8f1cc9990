package policy

import (
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
)

// This file decodes each kind of entity, checking what can be checked
// locally; references to other entities are checked in parser.finish.

// entity names an entity for errors found before its name is checked:
// "user alice" if the name is usable, else just "user".
func entity(kind string, n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "name" && v.Kind == yaml.ScalarNode && ValidName(v.Value) {
				return kind + " " + v.Value
			}
		}
	}
	return kind
}

func (p *parser) settings(key, n *yaml.Node) {
	if p.settingsAt.line != 0 {
		p.errorf(key, "settings given twice: here and at %s; give them once", p.settingsAt)
		return
	}
	p.settingsAt = p.at(key)
	f, ok := p.fields(n, "settings", "max_active_grants_per_user", "max_pending_requests_per_user",
		"default_max_duration", "auditors", "command_gate")
	if !ok {
		return
	}
	s := &p.pol.Settings
	s.MaxActiveGrantsPerUser = p.atLeastOne(f["max_active_grants_per_user"], "settings: max_active_grants_per_user")
	s.MaxPendingRequestsPerUser = p.atLeastOne(f["max_pending_requests_per_user"], "settings: max_pending_requests_per_user")
	s.DefaultMaxDuration = p.duration(f["default_max_duration"], "settings: default_max_duration")
	s.Auditors = p.refList("group", f["auditors"], "settings: auditors")
	if n := f["command_gate"]; n != nil && !isNull(n) {
		s.CommandGate = p.str(n, "settings: command_gate")
		if err := checkGatePath(s.CommandGate); err != nil {
			p.errorf(n, "settings: command_gate: %v", err)
		}
	}
}

// atLeastOne returns a count that must be at least 1, or 0 when missing.
func (p *parser) atLeastOne(n *yaml.Node, what string) int {
	v := p.integer(n, what, 0)
	if n != nil && !isNull(n) && v < 1 {
		p.errorf(n, "%s: must be at least 1", what)
	}
	return v
}

func (p *parser) user(n *yaml.Node) {
	f, ok := p.fields(n, entity("user", n), "name", "keys", "groups", "email")
	if !ok {
		return
	}
	name, ok := p.define("user", f, n)
	if !ok {
		return
	}
	what := "user " + name
	p.pol.Users[name] = &User{
		Name:   name,
		Keys:   p.keys(n, f["keys"], what),
		Groups: p.refList("group", f["groups"], what+": groups"),
		Email:  p.email(name, f["email"], what+": email"),
	}
}

func (p *parser) group(n *yaml.Node) {
	f, ok := p.fields(n, entity("group", n), "name", "description", "idp_group")
	if !ok {
		return
	}
	name, ok := p.define("group", f, n)
	if !ok {
		return
	}
	p.pol.Groups[name] = &Group{
		Name:        name,
		Description: p.text(f["description"], "group "+name+": description"),
		IDPGroup:    p.idpGroup(f["idp_group"], "group "+name+": idp_group"),
	}
}

func (p *parser) team(n *yaml.Node) {
	f, ok := p.fields(n, entity("team", n), "name", "description", "members", "managers", "eligible")
	if !ok {
		return
	}
	name, ok := p.define("team", f, n)
	if !ok {
		return
	}
	what := "team " + name
	t := &Team{
		Name:        name,
		Description: p.text(f["description"], what+": description"),
		Managers:    p.refList("user", f["managers"], what+": managers"),
	}
	t.Members, t.MemberDates = p.members(f["members"], what+": members")
	for _, e := range p.list(f["eligible"], what+": eligible") {
		t.Eligible = append(t.Eligible, p.eligibility(e, what+": eligible"))
	}
	p.pol.Teams[name] = t
}

// members decodes a team's members: each a user's name, or a mapping
// with the name and the membership's from: and until: dates.
func (p *parser) members(n *yaml.Node, what string) ([]string, map[string]Dates) {
	var names []string
	var dates map[string]Dates
	seen := map[string]bool{}
	for _, item := range p.list(n, what) {
		nameNode, d := item, Dates{}
		if item.Kind == yaml.MappingNode {
			f, _ := p.fields(item, what, "name", "from", "until")
			if nameNode = f["name"]; nameNode == nil || isNull(nameNode) {
				p.errorf(item, "%s: a dated member needs its name (name: alice)", what)
				continue
			}
			d = p.dates(f, what+" "+nameNode.Value)
			if !d.Dated() {
				p.errorf(item, "%s: member %q: give from:, until: or both, or list the name alone", what, nameNode.Value)
			}
		}
		name := p.str(nameNode, what)
		if name == "" {
			if nameNode.Kind == yaml.ScalarNode {
				p.errorf(nameNode, "%s: empty item", what)
			}
			continue
		}
		if seen[name] {
			p.errorf(nameNode, "%s: %q listed twice", what, name)
			continue
		}
		seen[name] = true
		if !p.refer("user", nameNode, name, what) {
			continue
		}
		names = append(names, name)
		if d.Dated() {
			if dates == nil {
				dates = map[string]Dates{}
			}
			dates[name] = d
		}
	}
	return names, dates
}

func (p *parser) eligibility(n *yaml.Node, what string) Eligibility {
	f, ok := p.fields(n, what, "roles", "resources", "from", "until")
	if !ok {
		return Eligibility{}
	}
	e := Eligibility{Roles: p.refList("role", f["roles"], what+": roles"), Dates: p.dates(f, what)}
	seen := map[string]bool{}
	for _, item := range p.strs(f["resources"], what+": resources") {
		if seen[item.Value] {
			p.errorf(item, "%s: resources: %q listed twice", what, item.Value)
			continue
		}
		seen[item.Value] = true
		if tag, ok := strings.CutPrefix(item.Value, "tag:"); ok {
			if p.refer("tag", item, tag, what+": resources") {
				e.Tags = append(e.Tags, tag)
			}
		} else if p.refer("resource", item, item.Value, what+": resources") {
			e.Resources = append(e.Resources, item.Value)
		}
	}
	if len(e.Roles) == 0 || len(e.Resources)+len(e.Tags) == 0 {
		p.errorf(n, "%s: each entry needs roles and resources (names or tag:X)", what)
	}
	return e
}

func (p *parser) role(n *yaml.Node) {
	f, ok := p.fields(n, entity("role", n), "name", "description", "max_duration", "login", "interactive",
		"allowed_commands", "force_command", "ticket_required", "step_up_mfa", "silent_watch", "approval")
	if !ok {
		return
	}
	name, ok := p.define("role", f, n)
	if !ok {
		return
	}
	what := "role " + name
	r := &Role{
		Name:            name,
		Description:     p.text(f["description"], what+": description"),
		Login:           p.login(n, f["login"], what),
		ForceCommand:    p.text(f["force_command"], what+": force_command"),
		MaxDuration:     p.duration(f["max_duration"], what+": max_duration"),
		Interactive:     p.boolean(f["interactive"], what+": interactive"),
		TicketRequired:  p.boolean(f["ticket_required"], what+": ticket_required"),
		StepUpMFA:       p.boolean(f["step_up_mfa"], what+": step_up_mfa"),
		SilentWatch:     p.boolean(f["silent_watch"], what+": silent_watch"),
		AllowedCommands: p.patterns(f["allowed_commands"], what+": allowed_commands"),
	}
	if mn := f["max_duration"]; mn == nil || isNull(mn) {
		p.unsetMax = append(p.unsetMax, r)
	}
	p.commandRules(r, f)
	if an := f["approval"]; an == nil || isNull(an) {
		p.errorf(n, "%s: approval is required (auto: true, or a require list)", what)
	} else {
		r.Approval = p.approval(an, what+": approval", false)
	}
	p.pol.Roles[name] = r
}

// commandRules checks that a role's allowed commands can be enforced on
// the target: never with a shell (interactive), and always through the
// command gate, which runs the matched words without a shell. A role with
// allowed commands and no force_command gets settings.command_gate.
func (p *parser) commandRules(r *Role, f map[string]*yaml.Node) {
	what := "role " + r.Name
	if len(r.AllowedCommands) > 0 && r.Interactive {
		p.errorf(f["interactive"], "%s: interactive: true and allowed_commands exclude each other: a shell, or a pager's !sh, escapes the list; "+
			"make the role non-interactive, or drop allowed_commands for a role that may run anything", what)
	}
	switch fc := f["force_command"]; {
	case len(r.AllowedCommands) > 0 && r.ForceCommand == "":
		p.unsetGate = append(p.unsetGate, r)
	case len(r.AllowedCommands) > 0:
		if err := checkGatePath(r.ForceCommand); err != nil {
			p.errorf(fc, "%s: force_command: %v (only the gate enforces allowed_commands on the target)", what, err)
		}
	case isGate(r.ForceCommand):
		p.errorf(fc, "%s: force_command: the command gate needs allowed_commands: without patterns it refuses every command", what)
	}
}

func (p *parser) login(role, n *yaml.Node, what string) string {
	s := p.str(n, what+": login")
	switch {
	case n == nil || isNull(n):
		p.errorf(role, "%s: login (the account on the target) is required", what)
	case !ValidLogin(s):
		p.errorf(n, "%s: login %q is not a valid account name: use 1 to 32 lowercase letters, digits, '_' or '-', starting with a letter or '_'", what, s)
	}
	return s
}

func (p *parser) patterns(n *yaml.Node, what string) []string {
	var out []string
	for _, item := range p.strs(n, what) {
		if err := checkPattern(item.Value); err != nil {
			p.errorf(item, "%s: pattern %q: %v", what, item.Value, err)
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func (p *parser) resource(n *yaml.Node) {
	f, ok := p.fields(n, entity("resource", n), "name", "description", "address", "tags", "host_key", "pending_timeout", "approval")
	if !ok {
		return
	}
	name, ok := p.define("resource", f, n)
	if !ok {
		return
	}
	what := "resource " + name
	r := &Resource{
		Name:        name,
		Description: p.text(f["description"], what+": description"),
		Address:     p.str(f["address"], what+": address"),
		Tags:        p.tags(f["tags"], what+": tags"),
	}
	if err := checkAddress(r.Address); f["address"] == nil || isNull(f["address"]) {
		p.errorf(n, "%s: address (host:port) is required", what)
	} else if err != nil {
		p.errorf(f["address"], "%s: address %q: %v", what, r.Address, err)
	}
	if hn := f["host_key"]; p.str(hn, what+": host_key") != "" {
		key, err := parseKey(hn.Value)
		if err != nil {
			p.errorf(hn, "%s: host_key: %v", what, err)
		}
		r.HostKey = key
	}
	r.PendingTimeout = p.duration(f["pending_timeout"], what+": pending_timeout")
	if an := f["approval"]; an != nil && !isNull(an) {
		r.Approval = p.approval(an, what+": approval", true)
		if a := r.Approval; r.PendingTimeout > 0 && a.EscalateTo != "" && a.EscalateAfter >= r.PendingTimeout {
			p.errorf(an, "%s: approval: escalate_after %s is not before pending_timeout %s, so it would never escalate", what, a.EscalateAfter, r.PendingTimeout)
		}
	}
	p.pol.Resources[name] = r
}

// tags returns a resource's tags and defines each, so teams may name them.
func (p *parser) tags(n *yaml.Node, what string) []string {
	var out []string
	seen := map[string]bool{}
	for _, item := range p.strs(n, what) {
		switch t := item.Value; {
		case !ValidName(t):
			p.errorf(item, "%s: tag %q is not valid: %s", what, t, nameRule)
		case seen[t]:
			p.errorf(item, "%s: tag %q listed twice", what, t)
		default:
			seen[t] = true
			out = append(out, t)
			if _, ok := p.defined["tag "+t]; !ok {
				p.defined["tag "+t] = p.at(item)
			}
		}
	}
	return out
}

func (p *parser) bastion(n *yaml.Node) {
	f, ok := p.fields(n, entity("bastion", n), "name", "keys", "egress")
	if !ok {
		return
	}
	name, ok := p.define("bastion", f, n)
	if !ok {
		return
	}
	what := "bastion " + name
	b := &Bastion{Name: name, Keys: p.keys(n, f["keys"], what)}
	items := p.strs(f["egress"], what+": egress")
	if len(items) == 0 {
		p.errorf(n, "%s: egress needs at least one address or CIDR (used as source-address in hop certificates)", what)
	}
	for _, item := range items {
		pfx, err := parseEgress(item.Value)
		if err != nil {
			p.errorf(item, "%s: egress %q: %v", what, item.Value, err)
			continue
		}
		b.Egress = append(b.Egress, pfx)
	}
	p.pol.Bastions[name] = b
}

// keys parses the identity keys of a user or bastion. A key identifies one
// owner only: a shared key would let one sign in as the other.
func (p *parser) keys(owner, n *yaml.Node, what string) []ssh.PublicKey {
	items := p.strs(n, what+": keys")
	if len(items) == 0 {
		p.errorf(owner, "%s: keys needs at least one public key", what)
	}
	var out []ssh.PublicKey
	for _, item := range items {
		key, err := parseKey(item.Value)
		if err != nil {
			p.errorf(item, "%s: keys: %v", what, err)
			continue
		}
		id := string(key.Marshal())
		if prev, dup := p.keyOwners[id]; dup {
			p.errorf(item, "%s: keys: this key already belongs to %s (%s); a key may identify only one user or bastion", what, prev.owner, prev.at)
			continue
		}
		p.keyOwners[id] = keyOwner{what, p.at(item)}
		out = append(out, key)
	}
	return out
}

// text returns a description-like value: trimmed, no control characters.
func (p *parser) text(n *yaml.Node, what string) string {
	s := strings.TrimSpace(p.str(n, what))
	if err := CheckText(s); err != nil {
		p.errorf(n, "%s: %v", what, err)
	}
	return s
}
