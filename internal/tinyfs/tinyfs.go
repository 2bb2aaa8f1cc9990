// Package tinyfs mounts a small tmpfs for tests that need a real full
// disk: the kernel's own ENOSPC, not a fake. Mounting needs root (or
// CAP_SYS_ADMIN); without it the test is skipped, or fails under
// LOCKBOX_REQUIRE_INTEGRATION=1 as a missing peer.
package tinyfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// Mount mounts a tmpfs of size bytes (a multiple of the page size) in a
// fresh directory, unmounts it when the test ends, and returns its path.
func Mount(t testing.TB, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tinyfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		storetest.MissingPeer(t, "a tmpfs mount for a full disk (mount -t tmpfs needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes a file in dir until the file system is full, and returns
// its path; removing it frees the space again.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			return path
		}
	}
}
