package sshcert

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"

	"golang.org/x/crypto/ssh"
)

// t0 is a fixed instant the tests build validity windows around.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// requireTool returns the path of an external program, failing the test if
// it is missing and LOCKBOX_REQUIRE_INTEGRATION=1, skipping otherwise.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	storetest.MissingPeer(t, "%s: %v", name, err)
	return ""
}

// newSigner generates a CA signer of type t.
func newSigner(t testing.TB, kt KeyType) ssh.Signer {
	t.Helper()
	key, err := GenerateKey(kt, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// rsaSigner returns a shared 2048-bit RSA signer (generation is slow).
func rsaSigner(t testing.TB) ssh.Signer {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	s, err := ssh.NewSignerFromKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ed25519Pub(t testing.TB) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mustPub(t, pub)
}

func ecdsaPub(t testing.TB, c elliptic.Curve) ssh.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mustPub(t, &k.PublicKey)
}

func mustPub(t testing.TB, key any) ssh.PublicKey {
	t.Helper()
	pub, err := ssh.NewPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// grantSpec is a valid interactive grant; tests modify copies of it.
func grantSpec() UserSpec {
	return UserSpec{
		Serial:      42,
		KeyID:       "alice/req-01HX",
		Principals:  []string{"admin@web-1"},
		PermitPTY:   true,
		ValidAfter:  t0,
		ValidBefore: t0.Add(time.Hour),
	}
}

// signedGrant builds and signs grantSpec() (modified by edit) with ca.
func signedGrant(t testing.TB, ca ssh.Signer, edit func(*UserSpec)) *ssh.Certificate {
	t.Helper()
	spec := grantSpec()
	if edit != nil {
		edit(&spec)
	}
	cert, err := UserCertificate(ed25519Pub(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(cert, ca, rand.Reader); err != nil {
		t.Fatal(err)
	}
	return cert
}

// writeCert writes cert as an authorized_keys line to dir/name-cert.pub.
func writeCert(t testing.TB, dir, name string, cert *ssh.Certificate) string {
	t.Helper()
	path := filepath.Join(dir, name+"-cert.pub")
	if err := os.WriteFile(path, AuthorizedKey(cert, name), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rsaKey0 returns the shared RSA private key behind rsaSigner.
func rsaKey0(t testing.TB) *rsa.PrivateKey {
	rsaSigner(t)
	return rsaKey
}

// currentUmask reads the process umask (tests expect modes under it).
func currentUmask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}
