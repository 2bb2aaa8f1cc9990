package sshcert

import (
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// checkSerial refuses serial 0, which a KRL cannot revoke.
func checkSerial(serial uint64) error {
	if serial == 0 {
		return ErrBadSerial
	}
	return nil
}

// checkKeyID requires 1 to 255 bytes of printable ASCII (spaces allowed).
// The key ID is what sshd logs and what audit ties a login to, so it must
// be present and must not be able to forge log lines.
func checkKeyID(id string) error {
	if id == "" || len(id) > maxNameLen {
		return fmt.Errorf("%w: want 1 to %d bytes", ErrBadKeyID, maxNameLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < ' ' || c > '~' {
			return fmt.Errorf("%w %q: want printable ASCII", ErrBadKeyID, id)
		}
	}
	return nil
}

// validityWindow converts [after, before) to certificate seconds. Times are
// truncated to the second; the window must be non-empty and start at or
// after the Unix epoch.
func validityWindow(after, before time.Time) (uint64, uint64, error) {
	a, b := after.Unix(), before.Unix()
	if after.IsZero() || before.IsZero() || a < 0 {
		return 0, 0, fmt.Errorf("%w: both ends must be set and after 1970", ErrBadValidity)
	}
	if b <= a {
		return 0, 0, fmt.Errorf("%w: ValidBefore %s not after ValidAfter %s", ErrBadValidity,
			before.UTC().Format(time.RFC3339), after.UTC().Format(time.RFC3339))
	}
	return uint64(a), uint64(b), nil
}

// newCertificate validates the fields user and host certificates share.
func newCertificate(pub ssh.PublicKey, certType uint32, serial uint64, keyID string, after, before time.Time) (*ssh.Certificate, error) {
	key, err := canonicalKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadSubjectKey, err)
	}
	if err := checkSerial(serial); err != nil {
		return nil, err
	}
	if err := checkKeyID(keyID); err != nil {
		return nil, err
	}
	va, vb, err := validityWindow(after, before)
	if err != nil {
		return nil, err
	}
	return &ssh.Certificate{
		Key:         key,
		Serial:      serial,
		CertType:    certType,
		KeyId:       keyID,
		ValidAfter:  va,
		ValidBefore: vb,
		Permissions: ssh.Permissions{
			CriticalOptions: map[string]string{},
			Extensions:      map[string]string{},
		},
	}, nil
}
