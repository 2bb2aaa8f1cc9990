package sshcert

import (
	"crypto/rsa"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// RSA key sizes accepted for subjects and CAs. The upper bound is OpenSSH's.
const (
	minRSABits = 2048
	maxRSABits = 16384
)

// CheckSubjectKey returns an error wrapping [ErrBadSubjectKey] unless pub is
// a key the CA may certify: ed25519, ECDSA on P-256/P-384/P-521, RSA of
// 2048 to 16384 bits, or the FIDO sk-ed25519 and sk-ecdsa-p256 kinds.
// Certificates, DSA, short RSA and any other type are refused.
func CheckSubjectKey(pub ssh.PublicKey) error {
	_, err := canonicalKey(pub)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBadSubjectKey, err)
	}
	return nil
}

// canonicalKey re-parses pub from its wire form, so that a caller's own
// PublicKey implementation cannot claim a type it does not have, and checks
// its type and size. The returned key is x/crypto's own value.
func canonicalKey(pub ssh.PublicKey) (ssh.PublicKey, error) {
	if pub == nil {
		return nil, errorString("no key")
	}
	if _, ok := pub.(*ssh.Certificate); ok {
		return nil, errorString("a certificate cannot be certified")
	}
	key, err := ssh.ParsePublicKey(pub.Marshal())
	if err != nil {
		return nil, errorString("malformed key")
	}
	switch key.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519,
		ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoSKECDSA256:
		return key, nil
	case ssh.KeyAlgoRSA:
		return key, checkRSASize(key)
	default:
		return nil, errorString(fmt.Sprintf("key type %q not allowed", key.Type()))
	}
}

func checkRSASize(key ssh.PublicKey) error {
	ck, ok := key.(ssh.CryptoPublicKey)
	if !ok {
		return errorString("RSA key without modulus")
	}
	rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
	if !ok {
		return errorString("RSA key without modulus")
	}
	if n := rk.N.BitLen(); n < minRSABits || n > maxRSABits {
		return errorString(fmt.Sprintf("RSA key of %d bits, want %d to %d", n, minRSABits, maxRSABits))
	}
	return nil
}
