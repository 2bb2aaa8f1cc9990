package sshcert

import (
	"crypto/rand"
	"errors"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestSignFillsNonceAndSignature(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	cert := signedGrant(t, ca, nil)
	if len(cert.Nonce) != 32 {
		t.Errorf("nonce is %d bytes, want 32", len(cert.Nonce))
	}
	if cert.Signature == nil || cert.Signature.Format != ssh.KeyAlgoED25519 {
		t.Errorf("signature = %+v", cert.Signature)
	}
	if err := ca.PublicKey().Verify(signedBytes(cert), cert.Signature); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestSignRSANeverUsesSHA1(t *testing.T) {
	ca := rsaSigner(t).(ssh.AlgorithmSigner)
	prefersSHA1, _ := ssh.NewSignerWithAlgorithms(ca, []string{ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA512})
	onlySHA1, _ := ssh.NewSignerWithAlgorithms(ca, []string{ssh.KeyAlgoRSA})
	tests := []struct {
		name   string
		signer ssh.Signer
		ok     bool
	}{
		{"plain RSA signer", ca, true},
		{"signer preferring ssh-rsa", prefersSHA1, true},
		{"signer allowing only ssh-rsa is refused", onlySHA1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, _ := UserCertificate(ed25519Pub(t), grantSpec())
			err := Sign(cert, tc.signer, rand.Reader)
			if !tc.ok {
				if err == nil {
					t.Fatalf("Sign succeeded with format %s", cert.Signature.Format)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cert.Signature.Format != ssh.KeyAlgoRSASHA512 {
				t.Errorf("signature format %s, want %s", cert.Signature.Format, ssh.KeyAlgoRSASHA512)
			}
		})
	}
}

func TestSignRefusesWeakOrCertificateCAs(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	keySigner := newSigner(t, KeyEd25519)
	certOfKey := resign(t, unsignedGrant(t, keySigner.PublicKey(), nil), ca)
	certSigner, err := ssh.NewCertSigner(certOfKey, keySigner)
	if err != nil {
		t.Fatal(err)
	}
	dsaSigner, err := ssh.NewSignerFromKey(dsaKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, signer := range map[string]ssh.Signer{"certificate CA": certSigner, "DSA CA": dsaSigner} {
		t.Run(name, func(t *testing.T) {
			cert, _ := UserCertificate(ed25519Pub(t), grantSpec())
			if err := Sign(cert, signer, rand.Reader); !errors.Is(err, ErrBadCAKey) {
				t.Errorf("Sign() = %v, want ErrBadCAKey", err)
			}
		})
	}
}

func TestSignRefusesCertificateWithoutKey(t *testing.T) {
	if err := Sign(&ssh.Certificate{}, newSigner(t, KeyEd25519), rand.Reader); err == nil {
		t.Error("Sign succeeded on a certificate without a key")
	}
}
