package sshcert

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// wireCert is an ssh-ed25519-cert-v01@openssh.com certificate in wire
// order (PROTOCOL.certkeys), so tests can build ones x/crypto won't.
type wireCert struct {
	Algo            string
	Nonce           string
	PubKey          string
	Serial          uint64
	CertType        uint32
	KeyID           string
	Principals      string
	ValidAfter      uint64
	ValidBefore     uint64
	CriticalOptions string
	Extensions      string
	Reserved        string
	SignatureKey    string
	Signature       string
}

// nestedCertBlob wraps the raw key blob ca in depth certificates, each the
// signing key of the next: a chain x/crypto before v0.55.0 recursed into.
func nestedCertBlob(depth int, ca []byte) []byte {
	principals := ssh.Marshal(struct{ P string }{"admin@web-1"})
	sig := ssh.Marshal(struct{ Format, Blob string }{ssh.KeyAlgoED25519, string(make([]byte, 64))})
	blob := ca
	for i := range depth {
		blob = ssh.Marshal(wireCert{
			Algo: ssh.CertAlgoED25519v01, Nonce: "nonce", PubKey: string(make([]byte, 32)),
			Serial: uint64(i + 1), CertType: ssh.UserCert, KeyID: "nested", Principals: string(principals),
			ValidAfter: uint64(t0.Unix()), ValidBefore: uint64(t0.Unix()) + 3600,
			SignatureKey: string(blob), Signature: string(sig),
		})
	}
	return blob
}

func TestDeeplyNestedCertificateIsRefusedWithoutCrashing(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	c := &Checker{CA: ca.PublicKey(), Clock: func() time.Time { return t0 }}
	for _, depth := range []int{1, 2, 3, 100, 1000} {
		t.Run(fmt.Sprintf("depth %d over the wire", depth), func(t *testing.T) {
			key, err := ssh.ParsePublicKey(nestedCertBlob(depth, ca.PublicKey().Marshal()))
			if err != nil {
				return // x/crypto refuses certificate authorities while parsing
			}
			if _, err := c.CheckUser(key, "admin@web-1"); err == nil {
				t.Fatal("CheckUser accepted a forged nested certificate")
			}
		})
	}
	t.Run("depth 1000 in memory", func(t *testing.T) {
		var key ssh.PublicKey = ca.PublicKey()
		for range 1000 {
			cert := unsignedGrant(t, ed25519Pub(t), nil)
			cert.SignatureKey, cert.Signature = key, &ssh.Signature{Format: ssh.KeyAlgoED25519, Blob: make([]byte, 64)}
			key = cert
		}
		if _, err := c.CheckUser(key, "admin@web-1"); err == nil {
			t.Fatal("CheckUser accepted a nested certificate")
		}
	})
}
