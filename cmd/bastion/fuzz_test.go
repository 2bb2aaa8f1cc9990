package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A pinned CA key file, whatever it holds, is read or refused, never a
// crash, and never read as no key at all.
func FuzzReadKeyFile(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl lockbox user_ca\n"))
	f.Add([]byte("# rotating\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n#\n"))
	f.Add([]byte(""))
	f.Add([]byte("ssh-ed25519 AAAA\x00\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "ca.pub")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		keys, err := readKeyFile(path)
		if err == nil && len(keys) == 0 {
			t.Fatal("no error and no key")
		}
		for _, k := range keys {
			if k == nil {
				t.Fatal("a nil key")
			}
		}
	})
}
