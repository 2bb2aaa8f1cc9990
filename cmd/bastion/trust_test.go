package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newPub(t *testing.T) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A pinned key file holds both keys of a CA during a rotation.
func TestPinnedKeyFileReadsEveryKeyInOrder(t *testing.T) {
	a, b := newPub(t), newPub(t)
	path := filepath.Join(t.TempDir(), "user_ca.pub")
	data := "# the user CA, rotating\n" + string(ssh.MarshalAuthorizedKey(a)) + "\n" + string(ssh.MarshalAuthorizedKey(b)) + "# end\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := readKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameKeys(keys, []ssh.PublicKey{a, b}) {
		t.Fatalf("read %d keys, want the two in file order", len(keys))
	}
}

func TestPinnedKeyFileWithoutAGoodKeyIsRefused(t *testing.T) {
	for name, data := range map[string]string{"empty": "", "comments only": "# none\n\n", "garbage": "ssh-ed25519 AAAA!!\n"} {
		path := filepath.Join(t.TempDir(), "ca.pub")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if keys, err := readKeyFile(path); err == nil {
			t.Errorf("%s: read %d keys, want an error", name, len(keys))
		}
	}
}
