package sshcert

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Checker verifies certificates issued by one CA, or, during a CA key
// rotation's overlap, by one of its two keys. It is what the bastion runs on
// every certificate a client (or a target) presents.
//
// A Checker decides only whether a certificate is genuine and current for a
// principal. After CheckUser accepts a certificate the caller must still:
//
//   - use the certificate only once the client has proved possession of its
//     key (x/crypto's VerifiedPublicKeyCallback, CVE-2024-45337);
//   - enforce force-command itself ([ForceCommand]): x/crypto does not;
//   - call [CheckSourceAddress] with the client's address: CheckUser only
//     checks that source-address is well formed;
//   - check the serial against the revocation list, and end the session by
//     ValidBefore;
//   - grant a PTY only if the permit-pty extension is present, and no
//     forwarding whatever the extensions say.
//
// A Checker is safe for concurrent use. Clock may be nil, meaning time.Now.
type Checker struct {
	CA ssh.PublicKey // the trusted authority, a raw (non-certificate) key
	// Also are further raw keys of the same authority trusted like CA:
	// the previous key, or the next one, while a rotation overlaps. Empty
	// outside a rotation.
	Also  []ssh.PublicKey
	Clock func() time.Time // the current time; nil means time.Now
}

// CheckUser verifies that key is a user certificate signed by exactly c.CA
// (or one of c.Also) and valid now for principal, and returns it. It refuses, with an error
// wrapping the named sentinel:
//
//   - a plain key (ErrNotCertificate) or a host certificate (ErrWrongCertType);
//   - a certificate whose SignatureKey is byte-equal to none of c.CA and
//     c.Also, or is itself a certificate (ErrWrongAuthority);
//   - an ssh-rsa (SHA-1) CA signature (ErrWeakSignature) or one that does not
//     verify (ErrBadSignature);
//   - a subject key CheckSubjectKey refuses (ErrBadSubjectKey), or a key ID
//     that is empty, over 255 bytes or not printable ASCII (ErrBadKeyID);
//   - any critical option but force-command and source-address
//     (ErrUnknownCriticalOption), or a malformed one (ErrBadForceCommand,
//     ErrBadSourceAddress);
//   - no principals, or one CheckPrincipal refuses (ErrBadPrincipal), or
//     principal not exactly among them (ErrPrincipalMismatch);
//   - ValidBefore infinite (ErrInfiniteValidity), now before ValidAfter
//     (ErrNotYetValid), or now at or after ValidBefore (ErrExpired).
func (c *Checker) CheckUser(key ssh.PublicKey, principal string) (*ssh.Certificate, error) {
	cert, err := c.checkSigned(key, ssh.UserCert)
	if err != nil {
		return nil, err
	}
	if err := checkUserOptions(cert); err != nil {
		return nil, err
	}
	if err := checkPrincipals(cert, principal, CheckPrincipal, ErrBadPrincipal); err != nil {
		return nil, err
	}
	if err := c.checkValidity(cert); err != nil {
		return nil, err
	}
	return cert, nil
}

// SignedUser verifies only that key is a user certificate that c.CA really
// signed (type, authority, subject key, signature and key ID, as CheckUser
// does), and returns it whether or not it is usable now: its validity,
// principals and options are left to CheckUser. The bastion uses it to
// tell a person whose own certificate cannot be used why, while telling
// anyone else nothing.
func (c *Checker) SignedUser(key ssh.PublicKey) (*ssh.Certificate, error) {
	return c.checkSigned(key, ssh.UserCert)
}

// CheckHost verifies that key is a host certificate signed by exactly c.CA
// and valid now for hostname, and returns it. It refuses what CheckUser
// refuses, with ErrBadHostname for bad names, except that a user
// certificate is refused (ErrWrongCertType) and a host certificate may
// carry no critical option at all (ErrUnknownCriticalOption).
func (c *Checker) CheckHost(key ssh.PublicKey, hostname string) (*ssh.Certificate, error) {
	cert, err := c.checkSigned(key, ssh.HostCert)
	if err != nil {
		return nil, err
	}
	if n := len(cert.CriticalOptions); n != 0 {
		return nil, fmt.Errorf("%w: host certificate has %d critical options", ErrUnknownCriticalOption, n)
	}
	if err := checkPrincipals(cert, hostname, CheckHostname, ErrBadHostname); err != nil {
		return nil, err
	}
	if err := c.checkValidity(cert); err != nil {
		return nil, err
	}
	return cert, nil
}

// ForceCommand returns the certificate's force-command, if it has one. The
// caller must run this command instead of whatever the client asked for.
func ForceCommand(cert *ssh.Certificate) (string, bool) {
	cmd, ok := cert.CriticalOptions[OptForceCommand]
	return cmd, ok
}

// checkSigned checks the type, authority, subject key, signature and key ID.
func (c *Checker) checkSigned(key ssh.PublicKey, certType uint32) (*ssh.Certificate, error) {
	if c.CA == nil || isCertificate(c.CA) {
		return nil, errors.New("sshcert: Checker.CA must be a raw public key")
	}
	for _, k := range c.Also {
		if k == nil || isCertificate(k) {
			return nil, errors.New("sshcert: Checker.Also must hold raw public keys")
		}
	}
	cert, ok := key.(*ssh.Certificate)
	if !ok {
		return nil, ErrNotCertificate
	}
	if cert.CertType != certType {
		return nil, fmt.Errorf("%w: got type %d, want %d", ErrWrongCertType, cert.CertType, certType)
	}
	ca, err := c.authority(cert)
	if err != nil {
		return nil, err
	}
	if err := CheckSubjectKey(cert.Key); err != nil {
		return nil, err
	}
	if err := checkSignature(cert, ca); err != nil {
		return nil, err
	}
	if err := checkKeyID(cert.KeyId); err != nil {
		return nil, err
	}
	return cert, nil
}

// authority compares the signing key with the raw bytes of each trusted
// key and returns the trusted key it equals. A certificate as authority is
// refused before it is marshaled (Teleport CVE-2025-49825: a certificate of
// the CA key is not the CA key).
func (c *Checker) authority(cert *ssh.Certificate) (ssh.PublicKey, error) {
	if cert.SignatureKey == nil || isCertificate(cert.SignatureKey) {
		return nil, fmt.Errorf("%w: signing key is a certificate", ErrWrongAuthority)
	}
	signer := cert.SignatureKey.Marshal()
	if bytes.Equal(signer, c.CA.Marshal()) {
		return c.CA, nil
	}
	for _, k := range c.Also {
		if bytes.Equal(signer, k.Marshal()) {
			return k, nil
		}
	}
	return nil, ErrWrongAuthority
}

// checkSignature verifies the CA signature with ca, the trusted key (not
// the key the certificate names), over the certificate without its
// signature.
func checkSignature(cert *ssh.Certificate, ca ssh.PublicKey) error {
	if cert.Signature == nil {
		return fmt.Errorf("%w: no signature", ErrBadSignature)
	}
	if cert.Signature.Format == ssh.KeyAlgoRSA {
		return ErrWeakSignature
	}
	if err := ca.Verify(signedBytes(cert), cert.Signature); err != nil {
		return ErrBadSignature
	}
	return nil
}

// signedBytes is the part of the certificate the CA signs: its wire form up
// to, not including, the signature field (as x/crypto's bytesForSigning).
func signedBytes(cert *ssh.Certificate) []byte {
	unsigned := *cert
	unsigned.Signature = nil
	out := unsigned.Marshal()
	return out[:len(out)-4] // drop the empty signature's length
}

// isCertificate reports whether k is a certificate, by Go type or by name.
func isCertificate(k ssh.PublicKey) bool {
	if _, ok := k.(*ssh.Certificate); ok {
		return true
	}
	return strings.Contains(k.Type(), "-cert-v01@openssh.com")
}

// checkUserOptions accepts only force-command and source-address, and only
// well-formed ones. Unknown options are looked for first so that the error
// does not depend on map order.
func checkUserOptions(cert *ssh.Certificate) error {
	for opt := range cert.CriticalOptions {
		if opt != OptForceCommand && opt != OptSourceAddress {
			return fmt.Errorf("%w %q", ErrUnknownCriticalOption, opt)
		}
	}
	if cmd, ok := cert.CriticalOptions[OptForceCommand]; ok {
		if err := checkForceCommand(cmd); err != nil {
			return err
		}
	}
	if src, ok := cert.CriticalOptions[OptSourceAddress]; ok {
		if _, err := parseSourceAddress(strings.Split(src, ",")); err != nil {
			return err
		}
	}
	return nil
}

// checkPrincipals requires a non-empty list of valid names containing want
// exactly. x/crypto would accept an empty list as "anyone".
func checkPrincipals(cert *ssh.Certificate, want string, check func(string) error, errBad error) error {
	if len(cert.ValidPrincipals) == 0 {
		return fmt.Errorf("%w: certificate has no principals", errBad)
	}
	found := false
	for _, p := range cert.ValidPrincipals {
		if err := check(p); err != nil {
			return err
		}
		found = found || p == want
	}
	if !found {
		return fmt.Errorf("%w: %q", ErrPrincipalMismatch, want)
	}
	return nil
}

// checkValidity applies [ValidAfter, ValidBefore) to the clock's time,
// truncated to the second, as OpenSSH and x/crypto do.
func (c *Checker) checkValidity(cert *ssh.Certificate) error {
	if cert.ValidBefore == ssh.CertTimeInfinity {
		return ErrInfiniteValidity
	}
	clock := c.Clock
	if clock == nil {
		clock = time.Now
	}
	now := clock().Unix()
	if now < 0 || uint64(now) < cert.ValidAfter {
		return ErrNotYetValid
	}
	if uint64(now) >= cert.ValidBefore {
		return ErrExpired
	}
	return nil
}
