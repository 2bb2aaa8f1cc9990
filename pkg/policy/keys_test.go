package policy

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// authorizedKey returns a fresh ed25519 public key as an authorized_keys line.
func authorizedKey(t testing.TB) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return marshalKey(t, pub)
}

func marshalKey(t testing.TB, pub any) string {
	t.Helper()
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func rsaKey(t testing.TB, bits int) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return marshalKey(t, &priv.PublicKey)
}

// dsaKey returns a well-formed ssh-dss key line. The numbers only have the
// sizes SSH demands (crypto/dsa is deprecated, and the key is never used).
func dsaKey(t testing.TB) string {
	t.Helper()
	one := big.NewInt(1)
	blob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{
		keyAlgoDSA,
		new(big.Int).Add(new(big.Int).Lsh(one, 1023), one),
		new(big.Int).Add(new(big.Int).Lsh(one, 159), one),
		big.NewInt(2), big.NewInt(3),
	})
	line := keyAlgoDSA + " " + base64.StdEncoding.EncodeToString(blob)
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
		t.Fatalf("test DSA key does not parse: %v", err)
	}
	return line
}

// certificateKey returns a user certificate as an authorized_keys line.
func certificateKey(t testing.TB) string {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	_, caPriv, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ssh.NewPublicKey(pub)
	signer, err := ssh.NewSignerFromKey(caPriv)
	if err != nil {
		t.Fatal(err)
	}
	cert := &ssh.Certificate{Key: key, CertType: ssh.UserCert, ValidPrincipals: []string{"alice"}, ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))
}
