package sshcert

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// Sign signs cert with the CA key ca, filling Nonce (32 bytes from rand),
// SignatureKey and Signature. An RSA CA always signs with rsa-sha2-512,
// never ssh-rsa (SHA-1), whatever algorithms ca prefers.
//
// Sign does not check cert: build it with [UserCertificate] or
// [HostCertificate]. It refuses a CA whose key is a certificate, DSA, short
// RSA or any type [CheckSubjectKey] refuses, with an error wrapping
// [ErrBadCAKey].
func Sign(cert *ssh.Certificate, ca ssh.Signer, rand io.Reader) error {
	if cert == nil || cert.Key == nil || ca == nil {
		return errors.New("sshcert: Sign needs a certificate with a key, and a CA")
	}
	if _, err := canonicalKey(ca.PublicKey()); err != nil {
		return fmt.Errorf("%w: %s", ErrBadCAKey, err)
	}
	signer, err := strongSigner(ca)
	if err != nil {
		return err
	}
	if err := cert.SignCert(rand, signer); err != nil {
		return fmt.Errorf("signing certificate: %w", err)
	}
	if cert.Signature.Format == ssh.KeyAlgoRSA {
		return fmt.Errorf("%w: CA produced an ssh-rsa signature", ErrWeakSignature)
	}
	return nil
}

// strongSigner restricts an RSA signer to rsa-sha2-512. Other key types have
// a single signature algorithm and are returned unchanged.
func strongSigner(ca ssh.Signer) (ssh.Signer, error) {
	if ca.PublicKey().Type() != ssh.KeyAlgoRSA {
		return ca, nil
	}
	return newRSASHA512Signer(ca)
}
