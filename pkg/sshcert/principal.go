package sshcert

import (
	"fmt"
	"strings"
)

// maxNameLen bounds principals, hostnames and key IDs.
const maxNameLen = 255

// Principal returns the certificate principal for role on resource,
// role + "@" + resource. It does not validate; see [CheckPrincipal].
func Principal(role, resource string) string {
	return role + "@" + resource
}

// CheckPrincipal returns an error wrapping [ErrBadPrincipal] unless p is a
// principal the CA may sign and the bastion may accept: 1 to 255 bytes of
// printable ASCII without '*', '?', ',' or spaces, with exactly one '@' and
// something on both sides of it.
//
// Wildcards and commas are refused because OpenSSH treats principals as
// pattern lists in places (CVE-2026-35414); an empty list means "anyone"
// to x/crypto (Vault CVE-2024-7594).
func CheckPrincipal(p string) error {
	if err := checkName(p); err != nil {
		return fmt.Errorf("%w %q: %s", ErrBadPrincipal, p, err)
	}
	role, resource, ok := strings.Cut(p, "@")
	if !ok || role == "" || resource == "" || strings.Contains(resource, "@") {
		return fmt.Errorf("%w %q: want role@resource", ErrBadPrincipal, p)
	}
	return nil
}

// checkName checks what principals and hostnames have in common: length,
// and only printable ASCII other than space and the pattern characters.
func checkName(s string) error {
	if s == "" {
		return errorString("empty")
	}
	if len(s) > maxNameLen {
		return errorString("longer than 255 bytes")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c >= 0x7f:
			return errorString("contains whitespace, control or non-ASCII characters")
		case c == '*' || c == '?' || c == ',':
			return errorString("contains '*', '?' or ','")
		}
	}
	return nil
}

// errorString is a detail appended to a sentinel; it is never returned alone.
type errorString string

func (e errorString) Error() string { return string(e) }
