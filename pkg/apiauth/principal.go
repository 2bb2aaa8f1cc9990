package apiauth

import (
	"regexp"
)

var principalPattern = regexp.MustCompile(`^(user|bastion):[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidPrincipal reports whether p is a well-formed principal: "user:NAME" or
// "bastion:NAME", NAME matching ^[a-z0-9][a-z0-9._-]{0,62}$.
func ValidPrincipal(p string) bool {
	return principalPattern.MatchString(p)
}
