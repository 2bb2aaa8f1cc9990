package sshcert

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"reflect"

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
	if key, ok := ownEd25519(pub); ok {
		return key, nil
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

// ed25519Type is x/crypto's own type of an Ed25519 public key.
var ed25519Type = func() reflect.Type {
	k, err := ssh.NewPublicKey(make(ed25519.PublicKey, ed25519.PublicKeySize))
	if err != nil {
		panic(err) // a constant value
	}
	return reflect.TypeOf(k)
}()

// ownEd25519 is canonicalKey for the commonest key, without the round trip
// through the wire form (x/crypto marshals by reflection): a value of
// x/crypto's own (unexported) Ed25519 type, whose bytes are all its wire
// form holds and which parsing checks only for their size, is copied
// after the same check.
func ownEd25519(pub ssh.PublicKey) (ssh.PublicKey, bool) {
	if reflect.TypeOf(pub) != ed25519Type {
		return nil, false
	}
	ck, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return nil, false
	}
	raw, ok := ck.CryptoPublicKey().(ed25519.PublicKey)
	if !ok || len(raw) != ed25519.PublicKeySize {
		return nil, false
	}
	key, err := ssh.NewPublicKey(ed25519.PublicKey(bytes.Clone(raw)))
	if err != nil {
		return nil, false
	}
	return key, true
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
