package auditsink

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
)

func signed(t testing.TB, seq int64) audit.SignedCheckpoint {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ssh.NewSignerFromKey(priv)
	c, err := audit.NewCheckpoint(seq, make([]byte, audit.HashSize), time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := audit.SignCheckpoint(c, key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Read reads back what File and Dir write.
func TestReadReadsWhatTheSinksWrote(t *testing.T) {
	dir := t.TempDir()
	file, err := NewFile(filepath.Join(dir, "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := NewDir(filepath.Join(dir, "pairs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int64{3, 9} {
		sc := signed(t, seq)
		if err := file.Write(sc); err != nil {
			t.Fatal(err)
		}
		if err := pairs.Write(sc); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{filepath.Join(dir, "checkpoints"), filepath.Join(dir, "pairs")} {
		got, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 9 {
			t.Errorf("%s: read %d checkpoints, want rows 3 and 9", p, len(got))
		}
	}
}

// Whatever a checkpoint file holds, Read returns checkpoints or an error,
// never a crash.
func FuzzRead(f *testing.F) {
	f.Add(signed(f, 5).Bundle())
	f.Add([]byte("lockbox audit checkpoint\n"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "checkpoints")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		Read(path) //nolint:errcheck // only that it returns
	})
}
