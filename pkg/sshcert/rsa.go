package sshcert

import (
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// rsaSHA512Signer is an RSA signer that signs only with rsa-sha2-512, by
// every method. x/crypto's NewSignerWithAlgorithms restricts
// SignWithAlgorithm but leaves Sign producing ssh-rsa (SHA-1) signatures.
type rsaSHA512Signer struct {
	ssh.AlgorithmSigner
}

var _ ssh.MultiAlgorithmSigner = rsaSHA512Signer{}

// newRSASHA512Signer wraps an RSA signer; it fails if s cannot choose its
// signature algorithm.
func newRSASHA512Signer(s ssh.Signer) (ssh.MultiAlgorithmSigner, error) {
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return nil, fmt.Errorf("%w: RSA signer cannot sign with rsa-sha2-512", ErrBadCAKey)
	}
	return rsaSHA512Signer{as}, nil
}

func (s rsaSHA512Signer) Algorithms() []string { return []string{ssh.KeyAlgoRSASHA512} }

func (s rsaSHA512Signer) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	return s.SignWithAlgorithm(rand, data, ssh.KeyAlgoRSASHA512)
}

func (s rsaSHA512Signer) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	if algorithm != ssh.KeyAlgoRSASHA512 {
		return nil, fmt.Errorf("sshcert: RSA signature algorithm %q refused, only %s", algorithm, ssh.KeyAlgoRSASHA512)
	}
	return s.AlgorithmSigner.SignWithAlgorithm(rand, data, algorithm)
}
