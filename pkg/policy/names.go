package policy

import "go.yaml.in/yaml/v3"

// define records the definition of an entity of the given kind from its
// name field. It reports false when the entity should not be kept: no name,
// a bad name, or a name already defined.
func (p *parser) define(kind string, f map[string]*yaml.Node, n *yaml.Node) (string, bool) {
	nn := f["name"]
	name := p.str(nn, kind+": name")
	if name == "" {
		p.errorf(n, "%s without a name", kind)
		return "", false
	}
	key := kind + " " + name
	if prev, dup := p.defined[key]; dup {
		p.errorf(nn, "%s %q is defined twice: here and at %s", kind, name, prev)
		return "", false
	}
	// Defined even when the name is bad, so references to it do not add
	// a second, misleading "unknown" error.
	p.defined[key] = p.at(nn)
	if !ValidName(name) {
		p.errorf(nn, "%s name %q is not valid: %s", kind, name, nameRule)
		return "", false
	}
	// Users and bastions both sign in to the CA by name.
	other := map[string]string{"user": "bastion", "bastion": "user"}[kind]
	if prev, clash := p.defined[other+" "+name]; clash && other != "" {
		p.errorf(nn, "%s %q has the same name as %s %q at %s; users and bastions need distinct names", kind, name, other, name, prev)
		return "", false
	}
	return name, true
}

// refer records that the name in item must be defined as kind, and reports
// whether the name is well formed.
func (p *parser) refer(kind string, item *yaml.Node, name, what string) bool {
	if !ValidName(name) {
		p.errorf(item, "%s: %q is not a valid %s name: %s", what, name, kind, nameRule)
		return false
	}
	p.refs = append(p.refs, ref{kind: kind, name: name, what: what, at: p.at(item)})
	return true
}

// refList returns a list of names of kind, each used at most once.
func (p *parser) refList(kind string, n *yaml.Node, what string) []string {
	var out []string
	seen := map[string]bool{}
	for _, item := range p.strs(n, what) {
		if seen[item.Value] {
			p.errorf(item, "%s: %q listed twice", what, item.Value)
			continue
		}
		seen[item.Value] = true
		if p.refer(kind, item, item.Value, what) {
			out = append(out, item.Value)
		}
	}
	return out
}

// approval decodes a role's rule, or a resource's extra rule, which can only
// add approvers and so may not say auto.
func (p *parser) approval(n *yaml.Node, what string, onResource bool) Approval {
	f, ok := p.fields(n, what, "auto", "require", "escalate_after", "escalate_to")
	if !ok {
		return Approval{}
	}
	var a Approval
	autoNode, reqNodes := f["auto"], p.list(f["require"], what+": require")
	a.Auto = p.boolean(autoNode, what+": auto")
	seen := map[Requirement]int{}
	for _, rn := range reqNodes {
		r, ok := p.requirement(rn, what+": require")
		if !ok {
			continue
		}
		k := Requirement{Group: r.Group, Managers: r.Managers}
		if line, dup := seen[k]; dup {
			p.errorf(rn, "%s: require: the same approvers are asked for twice (first at line %d); use count", what, line)
			continue
		}
		seen[k] = rn.Line
		a.Require = append(a.Require, r)
	}
	switch {
	case onResource && autoNode != nil:
		p.errorf(autoNode, "%s: auto is not allowed on a resource: its rule can only add approvers to the role's", what)
		a.Auto = false
	case a.Auto && len(reqNodes) > 0:
		p.errorf(autoNode, "%s: auto: true and a require list exclude each other; keep one", what)
	case !a.Auto && len(reqNodes) == 0:
		if onResource {
			p.errorf(n, "%s: needs a non-empty require list", what)
		} else {
			p.errorf(n, "%s: needs auto: true or a non-empty require list", what)
		}
	}
	p.escalation(f, &a, what)
	return a
}

// escalation decodes a rule's escalate_after and escalate_to, which come
// together, name a defined group that the rule does not already ask for,
// and make no sense on an auto-approved rule.
func (p *parser) escalation(f map[string]*yaml.Node, a *Approval, what string) {
	afterNode, toNode := f["escalate_after"], f["escalate_to"]
	given := func(n *yaml.Node) bool { return n != nil && !isNull(n) }
	switch {
	case !given(afterNode) && !given(toNode):
		return
	case !given(toNode):
		p.errorf(afterNode, "%s: escalate_after needs escalate_to: GROUP, the group that may approve once it passes", what)
		return
	case !given(afterNode):
		p.errorf(toNode, "%s: escalate_to needs escalate_after: DURATION, how long the rule's approvers have first", what)
		return
	case a.Auto:
		p.errorf(afterNode, "%s: escalate_after and escalate_to do not apply to auto: true; nobody needs to act", what)
		return
	}
	after := p.duration(afterNode, what+": escalate_after")
	to := p.str(toNode, what+": escalate_to")
	if to == "" || !p.refer("group", toNode, to, what+": escalate_to") {
		return
	}
	for _, r := range a.Require {
		if r.Group == to {
			p.errorf(toNode, "%s: escalate_to: the rule already asks for group %s; escalate to another group", what, to)
			return
		}
	}
	a.EscalateAfter, a.EscalateTo = after, to
	if after == 0 {
		a.EscalateTo = ""
	}
}

func (p *parser) requirement(n *yaml.Node, what string) (Requirement, bool) {
	f, ok := p.fields(n, what, "group", "managers", "count")
	if !ok {
		return Requirement{}, false
	}
	r := Requirement{
		Managers: p.boolean(f["managers"], what+": managers"),
		Count:    p.integer(f["count"], what+": count", 1),
	}
	gn := f["group"]
	if g := p.str(gn, what+": group"); g != "" && p.refer("group", gn, g, what+": group") {
		r.Group = g
	}
	switch {
	case gn != nil && !isNull(gn) && r.Managers:
		p.errorf(n, "%s: give either group: NAME or managers: true, not both", what)
		return r, false
	case (gn == nil || isNull(gn)) && !r.Managers:
		p.errorf(n, "%s: needs group: NAME or managers: true", what)
		return r, false
	case r.Count < 1:
		p.errorf(f["count"], "%s: count must be at least 1", what)
		return r, false
	}
	return r, r.Group != "" || r.Managers
}
