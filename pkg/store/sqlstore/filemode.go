package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ownerOnly makes the SQLite database at path readable and writable by
// its owner alone before SQLite opens it: it creates a missing file with
// mode 0600 and takes group and other bits off an existing one and off its
// WAL and shared-memory files. SQLite gives the WAL and shared-memory
// files it creates the mode of the database file, so they follow.
// (It would otherwise create all three 0644: the database holds sealed
// TOTP secrets, password hashes and the audit log.)
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("making %s private: %w", p, err)
		}
	}
	return nil
}
