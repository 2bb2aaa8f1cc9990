package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

func keygen(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		storetest.MissingPeer(t, "ssh-keygen (Debian package openssh-client): %v", err)
	}
	return p
}

// writeKey writes an Ed25519 key to dir/name (0600) and name.pub, and
// returns the signer.
func writeKey(t *testing.T, dir, name string) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pub"), ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	return signer
}

// keygenVerify runs ssh-keygen -Y verify as docs/audit.md tells an
// operator to, and returns its output and whether it accepted.
func keygenVerify(t *testing.T, bin, dir string, signer ssh.PublicKey, namespace string, text, sig []byte) (string, bool) {
	t.Helper()
	allowed := filepath.Join(dir, "allowed_signers")
	line := "lockbox-audit namespaces=\"" + audit.CheckpointNamespace + "\" " + string(ssh.MarshalAuthorizedKey(signer))
	if err := os.WriteFile(allowed, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	sigPath := filepath.Join(dir, "checkpoint.sig")
	if err := os.WriteFile(sigPath, sig, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-Y", "verify", "-f", allowed, "-I", "lockbox-audit", "-n", namespace, "-s", sigPath)
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// A checkpoint the CA signs is checked by stock OpenSSH with only the
// audit public key, and a wrong key, namespace or text fails there too.
func TestSshKeygenVerifiesASignedCheckpoint(t *testing.T) {
	bin := keygen(t)
	dir := t.TempDir()
	key := writeKey(t, dir, "audit_key")
	other := writeKey(t, dir, "other_key")
	c, err := audit.NewCheckpoint(7, bytes.Repeat([]byte{0x5a}, audit.HashSize), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := audit.SignCheckpoint(c, key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if out, ok := keygenVerify(t, bin, dir, key.PublicKey(), audit.CheckpointNamespace, sc.Text, sc.Signature); !ok || !strings.Contains(out, `Good "`+audit.CheckpointNamespace+`" signature for lockbox-audit`) {
		t.Fatalf("ssh-keygen -Y verify refused the checkpoint:\n%s", out)
	}
	if out, ok := keygenVerify(t, bin, dir, other.PublicKey(), audit.CheckpointNamespace, sc.Text, sc.Signature); ok {
		t.Fatalf("ssh-keygen accepted the checkpoint for another key:\n%s", out)
	}
	if out, ok := keygenVerify(t, bin, dir, key.PublicKey(), "file", sc.Text, sc.Signature); ok {
		t.Fatalf("ssh-keygen accepted the checkpoint in namespace file:\n%s", out)
	}
	forged := bytes.Replace(sc.Text, []byte("seq 7"), []byte("seq 8"), 1)
	if out, ok := keygenVerify(t, bin, dir, key.PublicKey(), audit.CheckpointNamespace, forged, sc.Signature); ok {
		t.Fatalf("ssh-keygen accepted a changed checkpoint:\n%s", out)
	}
}

// The other way: a checkpoint signed with ssh-keygen -Y sign verifies
// here, so the encoding is OpenSSH's and not merely self-consistent.
func TestCheckpointSignedBySshKeygenVerifies(t *testing.T) {
	bin := keygen(t)
	dir := t.TempDir()
	key := writeKey(t, dir, "audit_key")
	c, err := audit.NewCheckpoint(3, bytes.Repeat([]byte{0x11}, audit.HashSize), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	textPath := filepath.Join(dir, "checkpoint")
	if err := os.WriteFile(textPath, c.Text(), 0o644); err != nil {
		t.Fatal(err)
	}
	sign := func(namespace string) []byte {
		os.Remove(textPath + ".sig")
		if out, err := exec.Command(bin, "-Y", "sign", "-f", filepath.Join(dir, "audit_key"), "-n", namespace, textPath).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
		}
		sig, err := os.ReadFile(textPath + ".sig")
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	sc := audit.SignedCheckpoint{Checkpoint: c, Text: c.Text(), Signature: sign(audit.CheckpointNamespace)}
	if err := sc.Verify(key.PublicKey()); err != nil {
		t.Fatalf("ssh-keygen's signature: %v", err)
	}
	bundle, err := audit.ParseSignedCheckpoints(sc.Bundle())
	if err != nil || len(bundle) != 1 || bundle[0].Verify(key.PublicKey()) != nil {
		t.Fatalf("ssh-keygen's signature as a bundle: %v", err)
	}
	sc.Signature = sign("file")
	if err := sc.Verify(key.PublicKey()); !errors.Is(err, audit.ErrCheckpointSignature) {
		t.Fatalf("ssh-keygen's signature in namespace file: %v", err)
	}
}
