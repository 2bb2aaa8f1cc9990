package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// hostKey is the bastion's host key, presented with the certificate in
// host_key-cert.pub when there is one. reload reads the certificate file
// again, so that a certificate renewed with the host CA's next key (a
// host CA key rotation) is presented from the next connection on,
// without a restart. The private key never changes.
type hostKey struct {
	key  ssh.Signer // the private host key
	path string     // host_key-cert.pub

	mu   sync.Mutex
	cur  ssh.Signer // key, or key with its certificate
	file []byte     // the certificate file cur came from; nil: none
}

func loadHostKey(dir string) (*hostKey, error) {
	key, err := sshcert.LoadSigner(filepath.Join(dir, hostKeyFile))
	if err != nil {
		return nil, err
	}
	h := &hostKey{key: key, cur: key, path: filepath.Join(dir, hostKeyFile+"-cert.pub")}
	if _, err := h.reload(); err != nil {
		return nil, err
	}
	return h, nil
}

// reload reads the certificate file again and reports whether what the
// bastion presents changed. A file that is not a host certificate of this
// key is an error, and the signer in use stays. A removed file keeps the
// certificate in use: clients that trust only the host CA would lose the
// bastion otherwise.
func (h *hostKey) reload() (bool, error) {
	data, err := os.ReadFile(h.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes.Equal(data, h.file) {
		return false, nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.path, err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok || cert.CertType != ssh.HostCert {
		return false, fmt.Errorf("%s is not a host certificate", h.path)
	}
	if !bytes.Equal(cert.Key.Marshal(), h.key.PublicKey().Marshal()) {
		return false, fmt.Errorf("%s certifies another key than host_key", h.path)
	}
	s, err := ssh.NewCertSigner(cert, h.key)
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.path, err)
	}
	h.cur, h.file = s, data
	return true, nil
}

func (h *hostKey) current() ssh.Signer {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// serial is the presented certificate's serial, 0 without one.
func (h *hostKey) serial() uint64 {
	if c, ok := h.current().PublicKey().(*ssh.Certificate); ok {
		return c.Serial
	}
	return 0
}

// The ssh.Signer and ssh.AlgorithmSigner methods, on what is presented
// now. A renewed certificate is of the same key, so a handshake that
// straddles a reload still signs with the right key.

func (h *hostKey) PublicKey() ssh.PublicKey { return h.current().PublicKey() }

func (h *hostKey) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	return h.current().Sign(rand, data)
}

func (h *hostKey) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s := h.current()
	if as, ok := s.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(rand, data, algorithm)
	}
	if algorithm == "" || algorithm == s.PublicKey().Type() {
		return s.Sign(rand, data)
	}
	return nil, fmt.Errorf("host key: cannot sign with %s", algorithm)
}
