package sshcert

import (
	//lint:ignore SA1019 DSA keys are made only to test that they are refused.
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"golang.org/x/crypto/ssh"
)

// fakeKey is a PublicKey of any claimed type, with a well-formed blob.
type fakeKey struct{ typ string }

func (k fakeKey) Type() string                        { return k.typ }
func (k fakeKey) Marshal() []byte                     { return ssh.Marshal(struct{ T, B string }{k.typ, "blob"}) }
func (k fakeKey) Verify([]byte, *ssh.Signature) error { return nil }

func asPublicKey(k any) ssh.PublicKey {
	if k == nil {
		return nil
	}
	return k.(ssh.PublicKey)
}

// dsaKey returns a DSA private key (1024-bit parameters, as OpenSSH used).
func dsaKey(t testing.TB) *dsa.PrivateKey {
	t.Helper()
	var k dsa.PrivateKey
	if err := dsa.GenerateParameters(&k.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if err := dsa.GenerateKey(&k, rand.Reader); err != nil {
		t.Fatal(err)
	}
	return &k
}

func dsaPub(t testing.TB) ssh.PublicKey {
	t.Helper()
	return mustPub(t, &dsaKey(t).PublicKey)
}

func rsa1024Pub(t testing.TB) ssh.PublicKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return mustPub(t, &k.PublicKey)
}

// skEd25519Pub builds a FIDO sk-ssh-ed25519 public key in wire format.
func skEd25519Pub(t testing.TB) ssh.PublicKey {
	t.Helper()
	raw, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blob := ssh.Marshal(struct {
		Type, Key, Application string
	}{ssh.KeyAlgoSKED25519, string(raw), "ssh:"})
	return parsePub(t, blob)
}

// skECDSAPub builds a FIDO sk-ecdsa-sha2-nistp256 public key in wire format.
func skECDSAPub(t testing.TB) ssh.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := k.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	blob := ssh.Marshal(struct {
		Type, Curve, Point, Application string
	}{ssh.KeyAlgoSKECDSA256, "nistp256", string(ek.Bytes()), "ssh:"})
	return parsePub(t, blob)
}

func parsePub(t testing.TB, blob []byte) ssh.PublicKey {
	t.Helper()
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
