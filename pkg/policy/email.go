package policy

import (
	"net/mail"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxEmailLen is the longest address SMTP carries (RFC 5321's path limit
// less the angle brackets).
const maxEmailLen = 254

// email decodes a user's address: one bare address (name@example.com,
// no display name, no list), belonging to no other user, compared in any
// case. An address shared by two people would send one the other's
// notifications.
func (p *parser) email(owner string, n *yaml.Node, what string) string {
	if n == nil || isNull(n) {
		return ""
	}
	addr := p.str(n, what)
	switch {
	case n.Kind != yaml.ScalarNode:
		return ""
	case addr == "":
		p.errorf(n, "%s: empty; leave the field out for no address", what)
		return ""
	case len(addr) > maxEmailLen:
		p.errorf(n, "%s: longer than %d characters", what, maxEmailLen)
		return ""
	case !bareAddress(addr):
		p.errorf(n, "%s: %s is not a bare address like name@example.com", what, describe(n))
		return ""
	}
	key := strings.ToLower(addr)
	if prev, dup := p.emailOwners[key]; dup {
		p.errorf(n, "%s: %s is already user %s's (%s); one address belongs to one person", what, addr, prev.owner, prev.at)
		return ""
	}
	p.emailOwners[key] = keyOwner{owner: owner, at: p.at(n)}
	return addr
}

// bareAddress reports whether s is exactly one address with a domain and
// nothing around it.
func bareAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && strings.Contains(s, "@")
}

// EmailOf returns the address of user name in policy, or "" when the user
// has none or is not in the policy.
func (p *Policy) EmailOf(name string) string {
	if u := p.Users[name]; u != nil {
		return u.Email
	}
	return ""
}
