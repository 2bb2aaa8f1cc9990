package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

func newSigner(t *testing.T) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return s
}

func certify(t *testing.T, ca ssh.Signer, key ssh.PublicKey, certType uint32) []byte {
	t.Helper()
	c := &ssh.Certificate{Key: key, Serial: 7, CertType: certType, KeyId: "bastion", ValidPrincipals: []string{"bastion.example.com"},
		ValidAfter: uint64(time.Now().Add(-time.Minute).Unix()), ValidBefore: uint64(time.Now().Add(time.Hour).Unix())}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(c)
}

// A renewed host certificate (a host CA key rotation) is presented
// without a restart; a file that is not a host certificate of this key is
// refused and the certificate in use stays.
func TestHostKeyPresentsARenewedCertificateAndRefusesOthers(t *testing.T) {
	dir := t.TempDir()
	key, err := sshcert.GenerateKey(sshcert.KeyEd25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.WriteKeyFiles(filepath.Join(dir, hostKeyFile), key, "host"); err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromSigner(key)
	oldCA, nextCA := newSigner(t), newSigner(t)
	certPath := filepath.Join(dir, hostKeyFile+"-cert.pub")
	write := func(data []byte) {
		if err := os.WriteFile(certPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	presentedBy := func(h *hostKey) ssh.PublicKey {
		c, ok := h.PublicKey().(*ssh.Certificate)
		if !ok {
			t.Fatal("no certificate presented")
		}
		return c.SignatureKey
	}
	write(certify(t, oldCA, signer.PublicKey(), ssh.HostCert))
	h, err := loadHostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !sameKeys([]ssh.PublicKey{presentedBy(h)}, []ssh.PublicKey{oldCA.PublicKey()}) {
		t.Fatal("the first certificate is not presented")
	}
	write(certify(t, nextCA, signer.PublicKey(), ssh.HostCert))
	if changed, err := h.reload(); err != nil || !changed {
		t.Fatalf("reload of a renewed certificate: changed %v, %v", changed, err)
	}
	if !sameKeys([]ssh.PublicKey{presentedBy(h)}, []ssh.PublicKey{nextCA.PublicKey()}) {
		t.Fatal("the renewed certificate is not presented")
	}
	for name, data := range map[string][]byte{
		"another key's certificate": certify(t, nextCA, newSigner(t).PublicKey(), ssh.HostCert),
		"a user certificate":        certify(t, nextCA, signer.PublicKey(), ssh.UserCert),
		"garbage":                   []byte("not a certificate\n"),
	} {
		write(data)
		if _, err := h.reload(); err == nil {
			t.Errorf("%s: reloaded", name)
		}
		if !sameKeys([]ssh.PublicKey{presentedBy(h)}, []ssh.PublicKey{nextCA.PublicKey()}) {
			t.Errorf("%s: the certificate in use changed", name)
		}
	}
	sig, err := h.SignWithAlgorithm(rand.Reader, []byte("data"), ssh.KeyAlgoED25519)
	if err != nil || signer.PublicKey().Verify([]byte("data"), sig) != nil {
		t.Fatalf("signing through the reloaded host key: %v", err)
	}
}
