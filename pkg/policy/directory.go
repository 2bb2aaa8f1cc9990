package policy

import (
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxIDPGroup bounds a directory group's name, in characters.
const MaxIDPGroup = 256

// idpGroup decodes a group's idp_group: the directory group's name, one
// line of text. Absent is "".
func (p *parser) idpGroup(n *yaml.Node, what string) string {
	if n == nil || isNull(n) {
		return ""
	}
	s := p.str(n, what)
	switch {
	case n.Kind != yaml.ScalarNode:
		return "" // str said why
	case strings.TrimSpace(s) == "":
		p.errorf(n, "%s: give the directory group's name (its SCIM displayName, or the value the ID token's groups claim carries)", what)
	case utf8.RuneCountInString(s) > MaxIDPGroup:
		p.errorf(n, "%s: at most %d characters", what, MaxIDPGroup)
	default:
		if err := CheckText(s); err != nil {
			p.errorf(n, "%s: %v", what, err)
			return ""
		}
		return s
	}
	return ""
}

// Bound reports whether some group is bound to a directory group, that
// is whether directory membership can change anything.
func (p *Policy) Bound() bool {
	for _, g := range p.Groups {
		if g.IDPGroup != "" {
			return true
		}
	}
	return false
}

// WithDirectory returns the policy as it is with the directory's
// membership merged in: directory maps a user's name to the directory
// groups they are in (SCIM, OIDC), and each user the policy knows becomes
// a member of every group bound (idp_group) to one of them, names
// compared in any case. Members the files give stay members: the
// directory only adds. Unbound groups, and users the policy does not
// know, are left as they are. p is not changed; when nothing changes, p
// itself is returned.
func (p *Policy) WithDirectory(directory map[string][]string) *Policy {
	bound := map[string][]string{} // lowercased directory group → policy groups
	for _, g := range p.Groups {
		if g.IDPGroup != "" {
			k := strings.ToLower(g.IDPGroup)
			bound[k] = append(bound[k], g.Name)
		}
	}
	if len(bound) == 0 || len(directory) == 0 {
		return p
	}
	var users map[string]*User
	var groups map[string]*Group
	for name, dgroups := range directory {
		u := p.Users[name]
		if u == nil {
			continue
		}
		var add []string
		for _, dg := range dgroups {
			for _, g := range bound[strings.ToLower(dg)] {
				if !slices.Contains(u.Groups, g) && !slices.Contains(add, g) {
					add = append(add, g)
				}
			}
		}
		if len(add) == 0 {
			continue
		}
		if users == nil {
			users, groups = maps.Clone(p.Users), maps.Clone(p.Groups)
		}
		nu := *u
		nu.Groups = append(slices.Clone(u.Groups), add...)
		slices.Sort(nu.Groups)
		users[name] = &nu
		for _, g := range add {
			ng := *groups[g]
			ng.Members = append(slices.Clone(ng.Members), name)
			slices.Sort(ng.Members)
			groups[g] = &ng
		}
	}
	if users == nil {
		return p
	}
	q := *p
	q.Users, q.Groups = users, groups
	return &q
}
