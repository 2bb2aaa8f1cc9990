package apiauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"
)

// Signer signs outgoing API requests with an SSH key.
type Signer struct {
	// Principal is "user:NAME" or "bastion:NAME", as registered in policy.
	Principal string
	// Key signs the requests. Its public key must be registered for Principal.
	// RSA keys must implement ssh.AlgorithmSigner (keys from LoadKeyFile and
	// AgentSigners do): requests are signed with rsa-sha2-512 or rsa-sha2-256,
	// never SHA-1.
	Key ssh.Signer
	// Clock returns the signing time; nil means time.Now.
	Clock func() time.Time
	// Rand supplies nonces and signing randomness; nil means crypto/rand.
	Rand io.Reader
}

// Sign sets the Authorization header of r. body must be exactly the bytes
// that will be sent as the request body (nil for none), and r must not be
// changed afterwards: method, request URI, host and body are all signed. Sign
// each attempt again when retrying, since the CA refuses a reused nonce.
func (s *Signer) Sign(r *http.Request, body []byte) error {
	return s.sign(r, sha256.Sum256(body), notStreamed)
}

// sign signs r for a body with digest; length is the declared length of a
// streamed body (SignStream), or notStreamed.
func (s *Signer) sign(r *http.Request, digest [sha256.Size]byte, length int64) error {
	if !ValidPrincipal(s.Principal) {
		return fmt.Errorf("apiauth: invalid principal %q", s.Principal)
	}
	if s.Key == nil {
		return errors.New("apiauth: Signer has no key")
	}
	if r.URL == nil {
		return errors.New("apiauth: request has no URL")
	}
	nonce, err := s.newNonce()
	if err != nil {
		return fmt.Errorf("apiauth: making nonce: %w", err)
	}
	p := &authParams{
		principal: s.Principal,
		keyFP:     ssh.FingerprintSHA256(s.Key.PublicKey()),
		ts:        s.now().Unix(),
		nonce:     nonce,
	}
	p.sig, err = signMessage(s.Key, s.rand(), signedMessage(p, r, digest, length))
	if err != nil {
		return fmt.Errorf("apiauth: signing request: %w", err)
	}
	r.Header.Set("Authorization", p.String())
	return nil
}

func (s *Signer) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock()
}

func (s *Signer) rand() io.Reader {
	if s.Rand == nil {
		return rand.Reader
	}
	return s.Rand
}

func (s *Signer) newNonce() (string, error) {
	b := make([]byte, nonceBytes)
	if _, err := io.ReadFull(s.rand(), b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// signMessage signs msg with key, choosing a SHA-2 algorithm for RSA keys.
func signMessage(key ssh.Signer, rand io.Reader, msg []byte) (*ssh.Signature, error) {
	pub := key.PublicKey()
	if _, ok := pub.(*ssh.Certificate); ok {
		return nil, errors.New("key is a certificate; use the plain key registered in policy")
	}
	if pub.Type() != ssh.KeyAlgoRSA {
		return key.Sign(rand, msg)
	}
	as, ok := key.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("RSA key cannot sign with rsa-sha2-256/512")
	}
	alg, err := rsaAlgorithm(as)
	if err != nil {
		return nil, err
	}
	return as.SignWithAlgorithm(rand, msg, alg)
}

// rsaAlgorithm prefers rsa-sha2-512, then rsa-sha2-256, among the algorithms
// the signer allows.
func rsaAlgorithm(as ssh.AlgorithmSigner) (string, error) {
	preferred := []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	multi, ok := as.(ssh.MultiAlgorithmSigner)
	if !ok {
		return preferred[0], nil
	}
	for _, alg := range preferred {
		if slices.Contains(multi.Algorithms(), alg) {
			return alg, nil
		}
	}
	return "", errors.New("RSA key allows neither rsa-sha2-512 nor rsa-sha2-256")
}
