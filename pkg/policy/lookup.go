package policy

import (
	"slices"
	"time"

	"golang.org/x/crypto/ssh"
)

// UserKeys returns the identity keys of a user, or nil if there is no such user.
func (p *Policy) UserKeys(name string) []ssh.PublicKey {
	if u := p.Users[name]; u != nil {
		return slices.Clone(u.Keys)
	}
	return nil
}

// BastionKeys returns the keys of a registered bastion, or nil if there is
// no such bastion.
func (p *Policy) BastionKeys(name string) []ssh.PublicKey {
	if b := p.Bastions[name]; b != nil {
		return slices.Clone(b.Keys)
	}
	return nil
}

// InGroup reports whether user is a member of group.
func (p *Policy) InGroup(user, group string) bool {
	u := p.Users[user]
	return u != nil && p.Groups[group] != nil && slices.Contains(u.Groups, group)
}

// IsAuditor reports whether user is in one of the auditor groups named in
// settings.
func (p *Policy) IsAuditor(user string) bool {
	return slices.ContainsFunc(p.Settings.Auditors, func(g string) bool { return p.InGroup(user, g) })
}

// Auditors returns the people in the auditor groups, sorted.
func (p *Policy) Auditors() []string {
	var out []string
	for name := range p.Users {
		if p.IsAuditor(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// ManagersOf returns the managers of every team user is a member of, sorted
// and without repeats. It may include user, who is then still never allowed
// to approve their own request.
func (p *Policy) ManagersOf(user string) []string {
	var out []string
	for _, t := range p.Teams {
		if slices.Contains(t.Members, user) {
			out = append(out, t.Managers...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EligibleResources returns the resources user may request role on at
// now, sorted.
func (p *Policy) EligibleResources(user, role string, now time.Time) []string {
	var out []string
	for name := range p.Resources {
		if p.checkEligible(user, role, name, now) == nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
