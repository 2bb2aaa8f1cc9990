package sshcert

import "errors"

// Errors building a certificate ([UserCertificate], [HostCertificate], [Sign]).
var (
	ErrBadPrincipal     = errors.New("sshcert: invalid principal")
	ErrNoPrincipals     = errors.New("sshcert: no principals")
	ErrBadHostname      = errors.New("sshcert: invalid hostname")
	ErrNoHostnames      = errors.New("sshcert: no hostnames")
	ErrBadValidity      = errors.New("sshcert: invalid validity window")
	ErrBadSerial        = errors.New("sshcert: serial must not be zero")
	ErrBadKeyID         = errors.New("sshcert: invalid key ID")
	ErrBadSubjectKey    = errors.New("sshcert: subject key type or size not allowed")
	ErrBadSourceAddress = errors.New("sshcert: invalid source-address")
	ErrBadForceCommand  = errors.New("sshcert: invalid force-command")
	ErrBadCAKey         = errors.New("sshcert: CA key type or size not allowed")
)

// Reasons a [Checker] refuses a certificate.
var (
	ErrNotCertificate        = errors.New("sshcert: key is not a certificate")
	ErrWrongCertType         = errors.New("sshcert: wrong certificate type")
	ErrWrongAuthority        = errors.New("sshcert: certificate not signed by the trusted CA")
	ErrBadSignature          = errors.New("sshcert: certificate signature does not verify")
	ErrWeakSignature         = errors.New("sshcert: certificate signed with ssh-rsa (SHA-1)")
	ErrUnknownCriticalOption = errors.New("sshcert: unknown critical option")
	ErrPrincipalMismatch     = errors.New("sshcert: principal not in certificate")
	ErrNotYetValid           = errors.New("sshcert: certificate not yet valid")
	ErrExpired               = errors.New("sshcert: certificate expired")
	ErrInfiniteValidity      = errors.New("sshcert: certificate never expires")
	ErrSourceAddress         = errors.New("sshcert: client address not allowed by source-address")
)

// ErrKeyFileMode is returned by [LoadSigner] for a key file that group or
// other may access.
var ErrKeyFileMode = errors.New("sshcert: private key file is accessible by group or other")
