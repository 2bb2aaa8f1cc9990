package sshcert

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"
)

// HostSpec describes a host certificate for a target's sshd.
type HostSpec struct {
	Serial      uint64    // from NewSerial; never 0
	KeyID       string    // printable ASCII, 1 to 255 bytes
	Hostnames   []string  // each passes CheckHostname; at least one
	ValidAfter  time.Time // inclusive, truncated to the second
	ValidBefore time.Time // exclusive, truncated to the second
}

// HostCertificate validates spec and returns the unsigned host certificate
// for pub, with no critical options and no extensions; sign it with [Sign].
//
// Errors wrap one of ErrBadSubjectKey, ErrBadSerial, ErrBadKeyID,
// ErrBadValidity, ErrNoHostnames or ErrBadHostname.
func HostCertificate(pub ssh.PublicKey, spec HostSpec) (*ssh.Certificate, error) {
	cert, err := newCertificate(pub, ssh.HostCert, spec.Serial, spec.KeyID, spec.ValidAfter, spec.ValidBefore)
	if err != nil {
		return nil, err
	}
	if len(spec.Hostnames) == 0 {
		return nil, ErrNoHostnames
	}
	for _, h := range spec.Hostnames {
		if err := CheckHostname(h); err != nil {
			return nil, err
		}
	}
	cert.ValidPrincipals = slices.Clone(spec.Hostnames)
	return cert, nil
}

// CheckHostname returns an error wrapping [ErrBadHostname] unless h is 1 to
// 255 bytes of printable ASCII without spaces, '*', '?' or ','. Host names
// are matched exactly; wildcards are never signed.
func CheckHostname(h string) error {
	if err := checkName(h); err != nil {
		return fmt.Errorf("%w %q: %s", ErrBadHostname, h, err)
	}
	return nil
}
