package sshcert

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// During a key rotation's overlap the checker trusts both keys of the
// authority; after it, only the one left.
func TestCheckerTrustsBothKeysOfARotationOnlyWhileTheyOverlap(t *testing.T) {
	previous, next, other := newSigner(t, KeyEd25519), newSigner(t, KeyECDSAP256), newSigner(t, KeyEd25519)
	clock := func() time.Time { return t0 }
	overlap := &Checker{CA: next.PublicKey(), Also: []ssh.PublicKey{previous.PublicKey()}, Clock: clock}
	after := &Checker{CA: next.PublicKey(), Clock: clock}
	for _, tt := range []struct {
		name    string
		checker *Checker
		signer  ssh.Signer
		want    error
	}{
		{"previous key during the overlap", overlap, previous, nil},
		{"next key during the overlap", overlap, next, nil},
		{"another key during the overlap", overlap, other, ErrWrongAuthority},
		{"previous key after retirement", after, previous, ErrWrongAuthority},
		{"next key after retirement", after, next, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.checker.CheckUser(signedGrant(t, tt.signer, nil), "admin@web-1")
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckUser = %v, want %v", err, tt.want)
			}
		})
	}
}

// A signature made by one trusted key under the name of the other is
// verified with the key named, and refused.
func TestCheckerVerifiesWithTheTrustedKeyTheCertificateNames(t *testing.T) {
	previous, next := newSigner(t, KeyEd25519), newSigner(t, KeyEd25519)
	c := &Checker{CA: next.PublicKey(), Also: []ssh.PublicKey{previous.PublicKey()}, Clock: func() time.Time { return t0 }}
	forged := signWithAuthority(t, unsignedGrant(t, ed25519Pub(t), nil), previous.PublicKey(), next)
	if _, err := c.CheckUser(forged, "admin@web-1"); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("CheckUser = %v, want ErrBadSignature", err)
	}
}

func TestCheckerRefusesACertificateAmongItsOtherKeys(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	c := &Checker{CA: ca.PublicKey(), Also: []ssh.PublicKey{resign(t, unsignedGrant(t, ca.PublicKey(), nil), ca)}}
	if _, err := c.CheckUser(signedGrant(t, ca, nil), "admin@web-1"); err == nil {
		t.Fatal("CheckUser succeeded with a certificate in Also")
	}
}
