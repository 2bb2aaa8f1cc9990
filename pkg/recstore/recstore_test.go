package recstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutAndGet(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "rec"))
	if err != nil {
		t.Fatal(err)
	}
	body := "{\"version\":2}\n[0.1,\"o\",\"hi\"]\n"
	n, sum, err := d.Put("sess-1", strings.NewReader(body), 1<<20)
	want := sha256.Sum256([]byte(body))
	if err != nil || n != int64(len(body)) || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("put: %d %s %v", n, sum, err)
	}
	f, err := d.Get("sess-1")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	if string(got) != body {
		t.Fatalf("got %q", got)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	d, _ := Open(dir)
	if _, _, err := d.Put("sess-1", strings.NewReader("0123456789"), 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if _, err := d.Get("sess-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an oversize upload was kept: %v", err)
	}
	for _, id := range []string{"../etc/passwd", "", "A", strings.Repeat("a", 65)} {
		if _, _, err := d.Put(id, strings.NewReader("x"), 5); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("left files behind: %v", entries)
	}
}
