package auditsink_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/auditsink"
)

func signed(t *testing.T, key ssh.Signer, seq int64) audit.SignedCheckpoint {
	t.Helper()
	hash := audit.Genesis
	if seq > 0 {
		hash = bytes.Repeat([]byte{byte(seq)}, audit.HashSize)
	}
	c, err := audit.NewCheckpoint(seq, hash, time.Date(2026, 11, 23, 10, 0, int(seq), 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := audit.SignCheckpoint(c, key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func newKey(t *testing.T) ssh.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Appended checkpoints read back, in order, as the CLI reads the file.
func TestFileAppendsCheckpointsThatReadBack(t *testing.T) {
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "checkpoints.txt")
	f, err := auditsink.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int64{0, 3, 9} {
		if err := f.Write(signed(t, key, seq)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := audit.ParseSignedCheckpoints(data)
	if err != nil || len(got) != 3 || got[1].Seq != 3 || got[2].Verify(key.PublicKey()) != nil {
		t.Fatalf("read back %d checkpoints: %v", len(got), err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if _, err := auditsink.NewFile(filepath.Join(t.TempDir(), "missing", "c.txt")); err == nil {
		t.Fatal("a file in a missing directory was accepted")
	}
	if _, err := auditsink.NewFile(t.TempDir()); err == nil {
		t.Fatal("a directory was accepted as the checkpoint file")
	}
}

// The directory holds pairs ssh-keygen reads as they are: NAME and
// NAME.sig, and nothing half written.
func TestDirWritesATextAndSignaturePairPerCheckpoint(t *testing.T) {
	key := newKey(t)
	dir := filepath.Join(t.TempDir(), "checkpoints")
	d, err := auditsink.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sc := signed(t, key, 12)
	if err := d.Write(sc); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{"checkpoint-00000000000000000012-20261123T100012Z", "checkpoint-00000000000000000012-20261123T100012Z.sig"}
	if len(names) != 2 || names[0] != want[0] || names[1] != want[1] {
		t.Fatalf("files %q, want %q", names, want)
	}
	text, _ := os.ReadFile(filepath.Join(dir, want[0]))
	sig, _ := os.ReadFile(filepath.Join(dir, want[1]))
	back := audit.SignedCheckpoint{Checkpoint: sc.Checkpoint, Text: text, Signature: sig}
	if err := back.Verify(key.PublicKey()); err != nil {
		t.Fatal(err)
	}
}

type failing struct{}

func (failing) Write(audit.SignedCheckpoint) error { return errors.New("disk full") }

func TestAllWritesEverySinkAndReportsFailures(t *testing.T) {
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "c.txt")
	f, _ := auditsink.NewFile(path)
	err := auditsink.All{failing{}, f}.Write(signed(t, key, 1))
	if err == nil {
		t.Fatal("a failing sink went unreported")
	}
	if data, _ := os.ReadFile(path); len(data) == 0 {
		t.Fatal("the failing sink kept the other from its copy")
	}
}
