package sshcert

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

func TestGenerateKeyTypes(t *testing.T) {
	tests := []struct {
		kt   KeyType
		want string
	}{
		{"", ssh.KeyAlgoED25519},
		{KeyEd25519, ssh.KeyAlgoED25519},
		{KeyECDSAP256, ssh.KeyAlgoECDSA256},
	}
	for _, tc := range tests {
		t.Run(string(tc.kt), func(t *testing.T) {
			if got := newSigner(t, tc.kt).PublicKey().Type(); got != tc.want {
				t.Errorf("GenerateKey(%q) made a %s key, want %s", tc.kt, got, tc.want)
			}
		})
	}
	if _, err := GenerateKey("rsa", rand.Reader); err == nil {
		t.Error(`GenerateKey("rsa") succeeded, want error`)
	}
}

func TestWriteKeyFilesThenLoadSigner(t *testing.T) {
	for _, kt := range []KeyType{KeyEd25519, KeyECDSAP256} {
		t.Run(string(kt), func(t *testing.T) {
			key, err := GenerateKey(kt, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "ca")
			if err := WriteKeyFiles(path, key, "lockbox-ca"); err != nil {
				t.Fatal(err)
			}
			assertMode(t, path, 0o600)
			assertMode(t, path+".pub", 0o644)
			signer, err := LoadSigner(path)
			if err != nil {
				t.Fatal(err)
			}
			want := AuthorizedKey(signer.PublicKey(), "lockbox-ca")
			got, _ := os.ReadFile(path + ".pub")
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf(".pub differs from the loaded key (-want +got):\n%s", diff)
			}
		})
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want&^currentUmask() {
		t.Errorf("%s has mode %#o, want %#o", path, got, want)
	}
}

func TestWriteKeyFilesRefusesToOverwrite(t *testing.T) {
	key, _ := GenerateKey(KeyEd25519, rand.Reader)
	for _, existing := range []string{"ca", "ca.pub"} {
		t.Run(existing, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, existing), []byte("keep me"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := WriteKeyFiles(filepath.Join(dir, "ca"), key, "")
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("WriteKeyFiles over existing %s = %v, want fs.ErrExist", existing, err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory has %d files after refusal, want only %s", len(entries), existing)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, existing)); string(got) != "keep me" {
				t.Errorf("%s was modified: %q", existing, got)
			}
		})
	}
}

func TestLoadSignerRefusesLooseModes(t *testing.T) {
	key, _ := GenerateKey(KeyEd25519, rand.Reader)
	pem, err := MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ca")
			if err := os.WriteFile(path, pem, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSigner(path)
			if !errors.Is(err, ErrKeyFileMode) || !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("LoadSigner(mode %#o) = %v, want ErrKeyFileMode telling how to fix it", mode, err)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "d")
		os.Mkdir(dir, 0o700)
		if _, err := LoadSigner(dir); err == nil {
			t.Error("LoadSigner(directory) succeeded")
		}
	})
}

func TestLoadSignerRSASignsWithSHA512(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rsa-ca")
	pem, err := MarshalPrivateKey(rsaKey0(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign(rand.Reader, []byte("data"))
	if err != nil {
		t.Fatal(err)
	}
	if sig.Format != ssh.KeyAlgoRSASHA512 {
		t.Errorf("Sign() format = %s, want %s", sig.Format, ssh.KeyAlgoRSASHA512)
	}
	as := signer.(ssh.AlgorithmSigner)
	if _, err := as.SignWithAlgorithm(rand.Reader, []byte("data"), ssh.KeyAlgoRSA); err == nil {
		t.Error("SignWithAlgorithm(ssh-rsa) succeeded, want refusal")
	}
}

func TestWrittenKeyIsReadableByOpenSSH(t *testing.T) {
	keygen := requireTool(t, "ssh-keygen")
	key, _ := GenerateKey(KeyECDSAP256, rand.Reader)
	path := filepath.Join(t.TempDir(), "ca")
	if err := WriteKeyFiles(path, key, "ca@lockbox"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(keygen, "-y", "-f", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v", err)
	}
	pub, _ := os.ReadFile(path + ".pub")
	if !bytes.HasPrefix(pub, bytes.Fields(out)[0]) || !bytes.Contains(pub, bytes.Fields(out)[1]) {
		t.Errorf("ssh-keygen -y = %q, .pub = %q", out, pub)
	}
}

func TestMarshalPrivateKeyRefusesMultiLineComment(t *testing.T) {
	key, _ := GenerateKey(KeyEd25519, rand.Reader)
	if _, err := MarshalPrivateKey(key, "ca\nssh-ed25519 AAAA evil"); err == nil {
		t.Error("MarshalPrivateKey accepted a comment with a newline")
	}
}
