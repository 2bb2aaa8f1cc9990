package sshcert

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

// The only critical options and extension Lockbox user certificates carry.
const (
	OptForceCommand  = "force-command"
	OptSourceAddress = "source-address"
	ExtPermitPTY     = "permit-pty"
)

// UserSpec describes a user certificate: a grant of a role on a resource,
// or a bastion-to-target hop. Everything in it comes from the approved
// grant, never from the client.
type UserSpec struct {
	Serial        uint64    // from NewSerial; never 0
	KeyID         string    // e.g. "alice/req-01H..": printable ASCII, 1 to 255 bytes
	Principals    []string  // each passes CheckPrincipal; at least one
	ForceCommand  string    // "" = none; no control characters
	SourceAddress []string  // addresses or canonical CIDRs; empty = none
	PermitPTY     bool      // adds the permit-pty extension
	ValidAfter    time.Time // inclusive, truncated to the second
	ValidBefore   time.Time // exclusive, truncated to the second
}

// UserCertificate validates spec and returns the unsigned user certificate
// for pub; sign it with [Sign]. The certificate has exactly the principals
// of spec, the critical options force-command and source-address (comma
// joined) only when set, and the permit-pty extension only when
// spec.PermitPTY. It never carries forwarding, X11, agent or user-rc
// extensions.
//
// Errors wrap one of ErrBadSubjectKey, ErrBadSerial, ErrBadKeyID,
// ErrBadValidity, ErrNoPrincipals, ErrBadPrincipal, ErrBadForceCommand or
// ErrBadSourceAddress.
func UserCertificate(pub ssh.PublicKey, spec UserSpec) (*ssh.Certificate, error) {
	cert, err := newCertificate(pub, ssh.UserCert, spec.Serial, spec.KeyID, spec.ValidAfter, spec.ValidBefore)
	if err != nil {
		return nil, err
	}
	if len(spec.Principals) == 0 {
		return nil, ErrNoPrincipals
	}
	for _, p := range spec.Principals {
		if err := CheckPrincipal(p); err != nil {
			return nil, err
		}
	}
	cert.ValidPrincipals = slices.Clone(spec.Principals)
	if err := setUserOptions(cert, spec); err != nil {
		return nil, err
	}
	return cert, nil
}

func setUserOptions(cert *ssh.Certificate, spec UserSpec) error {
	if spec.ForceCommand != "" {
		if err := checkForceCommand(spec.ForceCommand); err != nil {
			return err
		}
		cert.CriticalOptions[OptForceCommand] = spec.ForceCommand
	}
	if len(spec.SourceAddress) > 0 {
		if _, err := parseSourceAddress(spec.SourceAddress); err != nil {
			return err
		}
		cert.CriticalOptions[OptSourceAddress] = strings.Join(spec.SourceAddress, ",")
	}
	if spec.PermitPTY {
		cert.Extensions[ExtPermitPTY] = ""
	}
	return nil
}

// checkForceCommand refuses invalid UTF-8 and control characters, which
// would let a command hide lines from logs and ssh-keygen -L.
func checkForceCommand(cmd string) error {
	if !utf8.ValidString(cmd) || strings.ContainsFunc(cmd, unicode.IsControl) {
		return fmt.Errorf("%w: invalid UTF-8 or control characters", ErrBadForceCommand)
	}
	return nil
}

// parseSourceAddress parses source-address entries: IP addresses or CIDR
// prefixes with no host bits set, without zones. An entry that is empty or
// contains a comma is refused, so the comma-joined option round-trips.
func parseSourceAddress(entries []string) ([]netip.Prefix, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: empty list", ErrBadSourceAddress)
	}
	prefixes := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		p, err := parseSourceEntry(e)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %s", ErrBadSourceAddress, e, err)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

func parseSourceEntry(e string) (netip.Prefix, error) {
	if !strings.Contains(e, "/") {
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errorString("not an IP address")
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(e)
	if err != nil {
		return netip.Prefix{}, errorString("not a CIDR prefix")
	}
	if p != p.Masked() {
		return netip.Prefix{}, errorString("host bits set; want " + p.Masked().String())
	}
	return p, nil
}
